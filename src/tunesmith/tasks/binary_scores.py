"""Scores for a yes/no decision made by thresholding a score: matching pairs and binary
classification share them (threshold tuned on validation, PR-AUC and ROC-AUC, a score histogram)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from tunesmith.evaluate.plots import save_figure


def best_f1_threshold(scores: Sequence[float], truth: Sequence[int]) -> float:
    """The score threshold with the best F1 on (validation) scores; 0.5 when there is no positive."""
    y = np.asarray(truth, dtype=int)
    s = np.asarray(scores, dtype=float)
    if not y.any() or y.all():
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, s)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


_POSITIVE_NAMES = ("1", "true", "yes", "fraud", "positive", "y")


def positive_label(labels: Sequence[str]) -> str | None:
    """The label a binary task scores (1, true, yes, fraud ...; else the second name); None if not binary."""
    if len(labels) != 2:
        return None
    for label in labels:
        if label.strip().lower() in _POSITIVE_NAMES:
            return label
    return labels[1]


def tuned_threshold(
    scores: Sequence[float], truth: Sequence[int], objective: str | Mapping[str, float] = "f1"
) -> dict[str, Any]:
    """The threshold for `objective` on validation scores: "f1" (best F1), {"precision": p} (the
    most recall with precision >= p) or {"recall": r} (the most precision with recall >= r).

    Returns {"threshold", "objective", "reached"}; when no threshold reaches the target, the best-F1
    one is used and "reached" is False."""
    best = best_f1_threshold(scores, truth)
    if objective == "f1" or not isinstance(objective, Mapping):
        return {"threshold": best, "objective": "f1", "reached": True}
    (kind, target), *_ = objective.items()
    y = np.asarray(truth, dtype=int)
    if not y.any() or y.all():
        return {"threshold": best, "objective": {kind: target}, "reached": False}
    precision, recall, thresholds = precision_recall_curve(y, np.asarray(scores, dtype=float))
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    meets = (precision >= target) if kind == "precision" else (recall >= target)
    if not meets.any():
        return {"threshold": best, "objective": {kind: target}, "reached": False}
    other = recall if kind == "precision" else precision
    chosen = int(np.argmax(np.where(meets, other, -1.0)))
    return {"threshold": float(thresholds[chosen]), "objective": {kind: target}, "reached": True}


def recall_at_precision(truth: Sequence[int], scores: Sequence[float], target: float) -> float:
    """The most recall any threshold reaches while precision stays >= target (0 if none)."""
    y = np.asarray(truth, dtype=int)
    if not y.any():
        return float("nan")
    precision, recall, _ = precision_recall_curve(y, np.asarray(scores, dtype=float))
    meets = precision >= target
    return float(recall[meets].max()) if meets.any() else 0.0


def ranking_scores(truth: Sequence[int], scores: Sequence[float]) -> dict[str, float]:
    """PR-AUC (average precision) and ROC-AUC; NaN when the truth holds one class only."""
    y = np.asarray(truth, dtype=int)
    if not 0 < y.sum() < len(y):
        return {"pr_auc": float("nan"), "roc_auc": float("nan"), "recall_at_95_precision": float("nan")}
    return {
        "pr_auc": float(average_precision_score(y, scores)),
        "roc_auc": float(roc_auc_score(y, scores)),
        "recall_at_95_precision": recall_at_precision(y, scores, 0.95),
    }


def binary_metrics(
    scores: Sequence[float], truth: Sequence[int], predicted: Sequence[int]
) -> dict[str, float]:
    """Decision metrics of `predicted` (0/1) and ranking metrics of `scores` against `truth`."""
    y = np.asarray(truth, dtype=int)
    s = np.asarray(scores, dtype=float)
    predicted = np.asarray(predicted, dtype=int)
    tp = int(((predicted == 1) & (y == 1)).sum())
    return {
        "accuracy": float((predicted == y).mean()) if len(y) else 0.0,
        "precision": tp / max(int(predicted.sum()), 1),
        "recall": tp / max(int(y.sum()), 1),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        **ranking_scores(y, s),
        "positive_rate": float(y.mean()) if len(y) else 0.0,
    }


def plot_score_histogram(
    scores: Sequence[float], truth: Sequence[int], threshold: float, path: Path, title: str
) -> None:
    import matplotlib.pyplot as plt

    y = np.asarray(truth, dtype=int)
    s = np.asarray(scores, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(float(s.min(initial=0.0)), float(s.max(initial=1.0)), 30)
    ax.hist(s[y == 0], bins=bins, alpha=0.6, label=f"negative (n={int((y == 0).sum())})")
    ax.hist(s[y == 1], bins=bins, alpha=0.6, label=f"positive (n={int((y == 1).sum())})")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set_xlabel("score")
    ax.set_ylabel("pairs")
    ax.set_title(title)
    ax.legend(fontsize=8)
    save_figure(fig, path)
