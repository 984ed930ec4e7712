"""Scores for a yes/no decision made by thresholding a score: matching pairs and binary
classification share them (threshold tuned on validation, PR-AUC and ROC-AUC, a score histogram)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.metrics.plots import pyplot, save_figure


def best_f1_threshold(scores: Sequence[float], truth: Sequence[int]) -> float:
    """The score threshold with the best F1 on (validation) scores; 0.5 when there is no positive."""
    from sklearn.metrics import precision_recall_curve

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
    from sklearn.metrics import precision_recall_curve

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


def total_cost(flagged: Sequence[bool], truth: Sequence[int], cost: Mapping[str, float]) -> float:
    """What yes/no decisions cost: each missed positive `miss`, each false alarm `false_alarm`."""
    chosen = np.asarray(flagged, dtype=bool)
    y = np.asarray(truth, dtype=int) == 1
    return float(cost["miss"] * (y & ~chosen).sum() + cost["false_alarm"] * (chosen & ~y).sum())


def cost_threshold(
    scores: Sequence[float], truth: Sequence[int], cost: Mapping[str, float]
) -> dict[str, Any]:
    """The threshold with the least total cost on (validation) scores: flag a record when its
    score is at least the threshold. Every distinct score is tried, and flagging nothing too; a
    tie goes to the higher threshold (fewer alarms)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(truth, dtype=int)
    order = np.argsort(-s, kind="stable")
    ranked, positives = s[order], y[order] == 1
    # flagging the top k records: misses are the positives below, alarms the negatives within
    flagged_positives = np.concatenate([[0], np.cumsum(positives)])
    flagged_negatives = np.concatenate([[0], np.cumsum(~positives)])
    costs = cost["miss"] * (positives.sum() - flagged_positives) + cost["false_alarm"] * flagged_negatives
    # only cut between different scores: records with one score are flagged together
    cuts = np.concatenate([[True], ranked[1:] != ranked[:-1], [True]])
    k = int(np.flatnonzero(cuts)[np.argmin(costs[cuts])])
    threshold = float(np.nextafter(ranked[0], np.inf)) if k == 0 else float(ranked[k - 1])
    return {
        "threshold": threshold,
        "objective": {"cost": dict(cost)},
        "reached": True,
        "validation_cost": float(costs[k]),
    }


def cost_report(flagged: Sequence[bool], truth: Sequence[int], cost: Mapping[str, float]) -> dict[str, Any]:
    """The decisions' total cost beside what flagging nothing and flagging everything would cost."""
    n = max(len(truth), 1)
    total = total_cost(flagged, truth, cost)
    return {
        "costs": dict(cost),
        "total": total,
        "per_1000_records": 1000 * total / n,
        "flag_nothing": total_cost([False] * len(truth), truth, cost),
        "flag_everything": total_cost([True] * len(truth), truth, cost),
    }


def average_precision(truth: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """PR-AUC as scikit-learn's average_precision_score computes it (a step per distinct score),
    in numpy: the bootstrap calls it a thousand times per split. NaN without a positive."""
    y = np.asarray(truth, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if not y.any():
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last record of each distinct score
    true_positives = np.cumsum(y)[last]
    precision = true_positives / (last + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def recall_at_precision(truth: Sequence[int], scores: Sequence[float], target: float) -> float:
    """The most recall any threshold reaches while precision stays >= target (0 if none)."""
    from sklearn.metrics import precision_recall_curve

    y = np.asarray(truth, dtype=int)
    if not y.any():
        return float("nan")
    precision, recall, _ = precision_recall_curve(y, np.asarray(scores, dtype=float))
    meets = precision >= target
    return float(recall[meets].max()) if meets.any() else 0.0


def ranking_scores(truth: Sequence[int], scores: Sequence[float]) -> dict[str, float]:
    """PR-AUC (average precision) and ROC-AUC; NaN when the truth holds one class only."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(truth, dtype=int)
    if not 0 < y.sum() < len(y):
        return {"pr_auc": float("nan"), "roc_auc": float("nan"), "recall_at_95_precision": float("nan")}
    return {
        "pr_auc": float(average_precision_score(y, scores)),
        "roc_auc": float(roc_auc_score(y, scores)),
        "recall_at_95_precision": recall_at_precision(y, scores, 0.95),
    }


def decision_rates(flagged: Sequence[bool], truth: Sequence[int]) -> dict[str, float]:
    """Precision, recall, false-positive rate and the share flagged, of yes/no decisions."""
    chosen = np.asarray(flagged, dtype=bool)
    y = np.asarray(truth, dtype=int)
    tp = int((chosen & (y == 1)).sum())
    return {
        "precision": tp / max(int(chosen.sum()), 1),
        "recall": tp / max(int(y.sum()), 1),
        "false_positive_rate": int((chosen & (y == 0)).sum()) / max(int((y == 0).sum()), 1),
        "flagged": float(chosen.mean()) if len(chosen) else 0.0,
    }


def binary_metrics(
    scores: Sequence[float], truth: Sequence[int], predicted: Sequence[int]
) -> dict[str, float]:
    """Decision metrics of `predicted` (0/1) and ranking metrics of `scores` against `truth`."""
    from sklearn.metrics import f1_score

    y = np.asarray(truth, dtype=int)
    s = np.asarray(scores, dtype=float)
    predicted = np.asarray(predicted, dtype=int)
    rates = decision_rates(predicted == 1, y)
    return {
        "accuracy": float((predicted == y).mean()) if len(y) else 0.0,
        "precision": rates["precision"],
        "recall": rates["recall"],
        "f1": float(f1_score(y, predicted, zero_division=0)),
        **ranking_scores(y, s),
        "positive_rate": float(y.mean()) if len(y) else 0.0,
    }


def plot_score_histogram(
    scores: Sequence[float], truth: Sequence[int], threshold: float, path: Path, title: str
) -> None:
    plt = pyplot()
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


def threshold_table(
    scores: Sequence[float], truth: Sequence[int], thresholds: Sequence[float]
) -> list[dict[str, float]]:
    """Precision, recall, F1 and the share of records flagged at each threshold (ascending)."""
    y = np.asarray(truth, dtype=int)
    s = np.asarray(scores, dtype=float)
    rows = []
    for threshold in sorted(set(thresholds)):
        rates = decision_rates(s >= threshold, y)
        precision, recall = rates["precision"], rates["recall"]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "threshold": float(threshold),
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "flagged": rates["flagged"],
            }
        )
    return rows


def plot_roc_pr(
    scores: Sequence[float],
    truth: Sequence[int],
    flagged: Sequence[bool],
    ranking: dict[str, float],
    path: Path,
    title: str,
) -> None:
    """ROC and precision-recall curves side by side (`ranking`: their areas, from `ranking_scores`),
    the decisions made (`flagged`) marked on both."""
    plt = pyplot()
    from sklearn.metrics import precision_recall_curve, roc_curve

    y = np.asarray(truth, dtype=int)
    s = np.asarray(scores, dtype=float)
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(10, 4))
    fpr, tpr, _ = roc_curve(y, s)
    precision, recall, _ = precision_recall_curve(y, s)
    roc.plot(fpr, tpr, label=f"ROC-AUC {ranking['roc_auc']:.3f}")
    roc.plot([0, 1], [0, 1], linestyle="--", color="grey")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate (recall)")
    pr.step(recall, precision, where="post", label=f"PR-AUC {ranking['pr_auc']:.3f}")
    pr.axhline(float(y.mean()), linestyle="--", color="grey", label=f"chance ({y.mean():.3f})")
    pr.set_xlabel("recall")
    pr.set_ylabel("precision")
    at = decision_rates(flagged, y)
    roc.scatter(
        [at["false_positive_rate"]], [at["recall"]], color="black", zorder=3, label="the model's decisions"
    )
    pr.scatter([at["recall"]], [at["precision"]], color="black", zorder=3, label="the model's decisions")
    for ax in (roc, pr):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    save_figure(fig, path)
