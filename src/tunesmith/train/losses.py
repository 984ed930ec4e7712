"""Losses for imbalanced labels: class-weighted and focal cross-entropy for single-label heads.

Given to the Trainer as `compute_loss_func`; the weights come from the training split's label
counts that prepare wrote (`data/report.json`), so the train stage reads nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F


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
