"""What the three sequence-level tasks (classification, multilabel, regression) share: one
`AutoModelForSequenceClassification` head over the encoder, tokenized text, logits out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from transformers import (
    AutoModelForSequenceClassification,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)


def build_head(
    model_dir: Path, labels: list[str], problem_type: str, trust_remote_code: bool
) -> PreTrainedModel:
    """The pretrained encoder with a fresh head of one output per name in `labels`."""
    return AutoModelForSequenceClassification.from_pretrained(
        model_dir,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type=problem_type,
        trust_remote_code=trust_remote_code,
    )


def tokenize(
    batch: dict[str, list[Any]], tokenizer: PreTrainedTokenizerBase, max_length: int
) -> dict[str, Any]:
    """Token ids of the batch's texts, cut at `max_length` (no padding: the collator pads)."""
    return dict(tokenizer(batch["text"], truncation=True, max_length=max_length))


def logits_of(prediction: EvalPrediction) -> np.ndarray:
    """The logits of a Trainer evaluation (some models return a tuple with extra outputs)."""
    logits = prediction.predictions
    return np.asarray(logits[0] if isinstance(logits, tuple) else logits)
