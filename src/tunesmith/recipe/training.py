"""`training` (how the model is fitted) and `tune` (the hyperparameter search over it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tunesmith.recipe.base import AUTO, Section


class TrainingSection(Section):
    """Which learners are fitted and how the transformer is fine-tuned. `auto` values are chosen
    when training starts, from the model and the training split's size (`train/auto.py`), and
    recorded in train_summary.json."""

    learners: Literal["auto"] | list[str] = Field(
        AUTO,
        description="auto: every learner the task offers - text: a linear model on word and character "
        "n-grams and the fine-tuned transformer; tables: LightGBM in three settings, XGBoost and a "
        "linear model on the columns (and the transformer where a field holds words); matching pairs: "
        "a linear model on shared n-grams, LightGBM on similarity figures and the cross-encoder. Or a "
        "list of them, e.g. [ngram_linear, transformer]. The best on validation, or their weighted "
        "ensemble, is the model.",
    )
    ensemble: bool = Field(
        True,
        description="Average the learners' calibrated scores with weights chosen on validation (Caruana's "
        "greedy selection) where that beats the best single learner on validation; false: the best one.",
    )
    time_limit: float | None = Field(
        None,
        description="Seconds for fitting all learners ('20m', '1h30m' and '90s' are read too; None: no "
        "limit). The fast learners fit first; the transformer gets what remains - fewer epochs, or a "
        "stated part of one, from the step time measured on this machine - and stops at the limit.",
    )

    @field_validator("time_limit", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None or isinstance(value, int | float):
            return value
        text = str(value).strip().lower()
        if text in ("none", "off", ""):
            return None
        import re

        parts = re.fullmatch(
            r"(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)s)?", text
        )
        if text.replace(".", "", 1).isdigit():
            return float(text)
        if not parts or not any(parts.groups()):
            raise ValueError(f"'{value}' is not a duration: give seconds or e.g. 20m, 1h30m, 90s")
        hours, minutes, seconds = (float(p) if p else 0.0 for p in parts.groups())
        return hours * 3600 + minutes * 60 + seconds

    @field_validator("time_limit")
    @classmethod
    def _positive_limit(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("must be above 0 seconds (or None: no limit)")
        return value

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
