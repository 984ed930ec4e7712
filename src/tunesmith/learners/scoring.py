"""The validation score that ranks learners and builds the ensemble.

One figure per kind of answer, the one a user of that task reads, computed as the model will be
served (thresholds tuned on the same validation split, as calibration will tune them):
- two labels (fraud, a matching pair): PR-AUC of the positive label - the ranking a threshold cuts;
- more labels: macro-F1 of the most probable label;
- multi-label: micro-F1 with each label's threshold tuned for its best F1;
- a number: RMSE.
Ties go to the lower log loss (mean squared error for numbers): two learners right on the same
records still differ in how sure they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tunesmith.learners.outputs import Kind, Targets, probabilities
from tunesmith.tasks.binary_scores import average_precision
from tunesmith.tasks.classification import macro_f1
from tunesmith.tasks.multilabel import best_threshold


@dataclass(frozen=True)
class Score:
    metric: str
    value: float
    greater_is_better: bool
    loss: float  # log loss (mean squared error for numbers): lower is better, breaks ties

    def beats(self, other: Score | None) -> bool:
        """Strictly better: a higher (lower) headline, or the same headline and a lower loss."""
        if other is None:
            return True
        if not np.isfinite(other.value) and np.isfinite(self.value):
            return True
        if not np.isfinite(self.value):
            return False
        if abs(self.value - other.value) > 1e-12:
            return (self.value > other.value) == self.greater_is_better
        return self.loss < other.loss - 1e-12

    def describe(self) -> str:
        return f"{self.metric} {self.value:.4f}"


def metric_name(kind: Kind, labels: list[str], positive: int | None) -> str:
    if kind == "value":
        return "rmse"
    if kind == "sigmoid":
        return "micro_f1"
    return "pr_auc" if positive is not None else "macro_f1"


def score(kind: Kind, scores: np.ndarray, targets: Targets, positive: int | None) -> Score:
    """The score of `scores` - probabilities, or values for regression - against the targets."""
    y = targets.y
    if kind == "value":
        error = np.asarray(scores, dtype=np.float64).reshape(len(y), -1)[:, 0] - y
        mse = float(np.mean(error**2)) if len(y) else float("nan")
        return Score("rmse", float(np.sqrt(mse)), False, mse)
    p = np.clip(np.asarray(scores, dtype=np.float64), 1e-7, 1 - 1e-7)
    if kind == "sigmoid":
        loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if y.size else float("nan")
        chosen = np.zeros_like(y)
        for j in range(y.shape[1]):
            if y[:, j].any():
                chosen[:, j] = p[:, j] >= best_threshold(y[:, j], p[:, j])[0]
            else:
                chosen[:, j] = p[:, j] >= 0.5
        hits = int((chosen & y).sum())
        total = int(chosen.sum() + y.sum())
        return Score("micro_f1", 2 * hits / total if total else 0.0, True, loss)
    known = y >= 0
    loss = float(-np.mean(np.log(p[known, y[known]]))) if known.any() else float("nan")
    if positive is not None:
        value = average_precision((y[known] == positive).astype(np.int64), p[known, positive])
        return Score("pr_auc", value, True, loss)
    value = macro_f1(y, p.argmax(axis=1), p.shape[1])
    return Score("macro_f1", value, True, loss)


def score_logits(
    kind: Kind, logits: np.ndarray, targets: Targets, positive: int | None, temperature: float = 1.0
) -> Score:
    return score(kind, probabilities(kind, logits, temperature), targets, positive)
