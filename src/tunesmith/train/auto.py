"""The `auto` training values, chosen from the model and the size of the training split.

- learning rate by the encoder's width: small encoders (MiniLM, E5-small: 384) take 1e-4, BERT-base
  sized ones (768) 5e-5, larger ones 2e-5, the rates their authors and sentence-transformers use;
  LoRA adapters 2e-4; times the task's `learning_rate_scale` (a cross-encoder: 0.5).
- epochs as a step budget: about STEP_BUDGET optimizer steps in whole epochs, between 1 and 20 -
  4,000 records or fewer get 20 passes, 8,000 get ten, 80,000 one; early stopping ends a run
  whose validation metric stops improving. A task whose pretrained model already writes text
  (seq2seq, causal_lm) takes its own, smaller budget (`Task.step_budget`, `Task.max_epochs`: 300
  steps, at most 5 epochs): a few passes adapt a generator, where a new classification head needs
  many (Gemma 3 270M on 4,000 Tatoeba pairs reached BLEU 28 after one epoch; a step of 32 short
  pairs takes ~4 s on 2 cores, of 32 news sentences ~18 s).
- warm-up: 10% of the steps, at most 200.
- early stopping: 2 evaluations without improvement, a fifth of the epochs for long small-data runs.

Measured on banking77 (8,000 training queries, MiniLM, batch 32): validation macro-F1 0.670 after
2 epochs at 1e-4, 0.892 after 5, 0.920 after 10 (0.896 at 5e-5, 0.917 at 2e-4); the former fixed
defaults (5e-5, 3 epochs) reached 65% test accuracy (README, "Defaults that earn their accuracy").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tunesmith.recipe import AUTO, TrainingSection

STEP_BUDGET = 2500
MAX_EPOCHS = 20
MAX_WARMUP_STEPS = 200


def model_width(model: Any) -> int | None:
    config = getattr(model, "config", None)
    for holder in (config, getattr(config, "encoder", None), getattr(config, "text_config", None)):
        for key in ("hidden_size", "n_embd", "d_model", "dim"):
            value = getattr(holder, key, None)
            if isinstance(value, int):
                return value
    return None


@dataclass(frozen=True)
class Resolved:
    training: TrainingSection  # with every auto value replaced by a number
    reasons: dict[str, str] = field(default_factory=dict)  # key -> why (auto values only)

    def describe(self) -> str:
        return "; ".join(f"{key} {getattr(self.training, key)} ({why})" for key, why in self.reasons.items())


def _learning_rate(width: int | None, lora: bool) -> tuple[float, str]:
    if lora:
        return 2e-4, "LoRA adapters"
    if width is None:
        return 5e-5, "model width unknown"
    if width <= 384:
        return 1e-4, f"a small encoder (width {width})"
    if width <= 768:
        return 5e-5, f"a base-sized model (width {width})"
    return 2e-5, f"a large model (width {width})"


def resolve(
    options: TrainingSection,
    model: Any,
    train_records: int,
    world_size: int,
    lora: bool,
    learning_rate_scale: float = 1.0,
    step_budget: int = STEP_BUDGET,
    max_epochs: int = MAX_EPOCHS,
) -> Resolved:
    """`options` with its auto values chosen for `model` and `train_records` examples;
    `learning_rate_scale`: the task's factor on the auto learning rate (a cross-encoder: 0.5);
    `step_budget`, `max_epochs`: the optimizer steps auto epochs aim at, and their cap (the task's)."""
    values: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    per_step = options.batch_size * options.gradient_accumulation_steps * max(world_size, 1)
    steps_per_epoch = max(1, math.ceil(train_records / per_step))
    if options.learning_rate == AUTO:
        rate, why = _learning_rate(model_width(model), lora)
        if learning_rate_scale != 1.0 and not lora:
            rate, why = rate * learning_rate_scale, f"{why}, x{learning_rate_scale:g} for this task's head"
        values["learning_rate"], reasons["learning_rate"] = rate, why
    if options.epochs == AUTO:
        epochs = min(max_epochs, max(1, math.ceil(step_budget / steps_per_epoch)))
        values["epochs"] = float(epochs)
        reasons["epochs"] = (
            f"~{step_budget:,} steps over {train_records:,} records, {steps_per_epoch:,} steps an epoch"
            + (f", at most {max_epochs}" if epochs == max_epochs else "")
        )
    epochs = float(values.get("epochs", options.epochs))
    total = options.max_steps if options.max_steps > 0 else math.ceil(steps_per_epoch * epochs)
    if options.warmup_ratio == AUTO:
        ratio = min(0.1, MAX_WARMUP_STEPS / max(total, 1))
        values["warmup_ratio"] = round(ratio, 4)
        reasons["warmup_ratio"] = f"{math.ceil(ratio * total)} of {total:,} steps"
    if options.early_stopping_patience == AUTO:
        patience = max(2, round(epochs / 5)) if epochs > 10 else 2
        values["early_stopping_patience"] = patience
        reasons["early_stopping_patience"] = f"evaluations without improvement, over {epochs:g} epochs"
    return Resolved(options.model_copy(update=values), reasons)
