"""Losses for imbalanced labels: class-weighted and focal cross-entropy for single-label heads,
and binary cross-entropy with weighted positives for multi-label heads.

Given to the Trainer as `compute_loss_func`; the weights come from the training split's label
counts that prepare wrote (`data/report.json`), so the train stage reads nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from tunesmith.data.data_report import IMBALANCE_WARNING


def balanced_weights(counts: Mapping[str, int], labels: Sequence[str]) -> list[float]:
    """n / (k * count) per label, scikit-learn's 'balanced'; a label absent from train gets 1."""
    total = sum(counts.get(label, 0) for label in labels)
    present = [label for label in labels if counts.get(label, 0) > 0]
    return [total / (len(present) * counts[label]) if counts.get(label, 0) else 1.0 for label in labels]


def weighted_focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None, gamma: float
) -> torch.Tensor:
    """Mean over the batch of w_y * (1 - p_y)^gamma * -log p_y, normalised by the sum of w_y (as
    torch's weighted cross-entropy is); gamma 0 and no weights is plain cross-entropy."""
    log_p = F.log_softmax(logits.float(), dim=-1).gather(1, targets.unsqueeze(1)).squeeze(1)
    loss = -log_p
    if gamma:
        loss = loss * (1 - log_p.exp()).clamp(min=0) ** gamma
    if weights is None:
        return loss.mean()
    w = weights.to(loss.device)[targets]
    return (w * loss).sum() / w.sum().clamp(min=1e-12)


def imbalance_loss(
    weights: Sequence[float] | None, gamma: float
) -> Callable[[Any, torch.Tensor, Any], torch.Tensor]:
    """A Trainer `compute_loss_func` for a single-label classification head."""
    tensor = torch.tensor(list(weights), dtype=torch.float32) if weights is not None else None

    def compute(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
        logits = outputs["logits"] if isinstance(outputs, Mapping) else outputs[0]
        return weighted_focal_loss(logits, labels.long(), tensor, gamma)

    return compute


MAX_POSITIVE_WEIGHT = 30.0


def auto_class_weights(task: Any, counts: Mapping[str, int], labels: Sequence[str]) -> str:
    """What `class_weights: auto` means for a task and its training label counts: multi-label
    always gets damped positive weights (a rare label's few positives are otherwise drowned);
    single-label gets balanced weights once the largest label outnumbers the smallest 10:1."""
    if getattr(task, "weighs_positives", False):
        return "sqrt"
    if not getattr(task, "weighs_classes", False):
        return "none"
    present = [counts.get(label, 0) for label in labels if counts.get(label, 0)]
    if len(present) >= 2 and max(present) / min(present) >= IMBALANCE_WARNING:
        return "balanced"
    return "none"


def positive_weights(
    counts: Mapping[str, int], total: int, labels: Sequence[str], damped: bool
) -> list[float]:
    """Per label, negatives / positives (BCE's pos_weight), its square root when `damped`, at
    most MAX_POSITIVE_WEIGHT; 1 for a label without positives in train."""
    weights = []
    for label in labels:
        positives = counts.get(label, 0)
        ratio = (total - positives) / positives if positives else 1.0
        weights.append(min(math.sqrt(ratio) if damped else ratio, MAX_POSITIVE_WEIGHT))
    return [max(w, 1.0) for w in weights]


def positive_weighted_loss(
    weights: Sequence[float] | None,
) -> Callable[[Any, torch.Tensor, Any], torch.Tensor]:
    """A Trainer `compute_loss_func` for a multi-label head: BCE with each label's positives weighted."""
    tensor = torch.tensor(list(weights), dtype=torch.float32) if weights is not None else None

    def compute(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
        logits = outputs["logits"] if isinstance(outputs, Mapping) else outputs[0]
        weight = tensor.to(logits.device) if tensor is not None else None
        return F.binary_cross_entropy_with_logits(logits.float(), labels.float(), pos_weight=weight)

    return compute
