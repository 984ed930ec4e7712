"""Metrics per subgroup (slice) of the test set, through fairlearn's MetricFrame.

For each attribute in `evaluation.slices`: accuracy and macro-F1 per value with its count, the
largest gap and the smallest ratio between slices, and fairlearn's demographic parity and
equalized odds differences (one-vs-rest per label, the largest reported; equalized odds only over
labels with at least 10 true and 10 other records in every ranked slice). A slice with fewer than
`evaluation.min_slice` records is shown but marked small and left out of gaps and ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.tasks.classification import macro_f1

MIN_RATE_RECORDS = 10  # true (and false) examples of a label per slice before its rates count


def slice_report(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    groups: Sequence[str],
    n_labels: int,
    min_size: int,
) -> dict[str, Any]:
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
    )

    t, p, g = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups, dtype=object)
    frame = MetricFrame(
        metrics={
            "accuracy": lambda a, b: float(np.mean(a == b)),
            "macro_f1": lambda a, b: macro_f1(a, b, n_labels),
            "count": count,
        },
        y_true=t,
        y_pred=p,
        sensitive_features=g,
    )
    table = frame.by_group
    per_slice = {
        str(value): {
            "count": int(row["count"]),
            "accuracy": float(row["accuracy"]),
            "macro_f1": float(row["macro_f1"]),
            "small": int(row["count"]) < min_size,
        }
        for value, row in table.iterrows()
    }
    ranked = table[table["count"] >= min_size]
    report: dict[str, Any] = {"per_slice": per_slice, "ranked_slices": len(ranked)}
    for metric in ("accuracy", "macro_f1"):
        if len(ranked) >= 2:
            values = ranked[metric].astype(float)
            report[f"gap_{metric}"] = float(values.max() - values.min())
            report[f"ratio_{metric}"] = (
                float(values.min() / values.max()) if values.max() > 0 else float("nan")
            )
            report[f"worst_slice_{metric}"] = str(values.idxmin())
        else:
            report[f"gap_{metric}"] = float("nan")
            report[f"ratio_{metric}"] = float("nan")
    big = np.isin(g, np.asarray(list(ranked.index), dtype=object))
    parity, odds = [], []
    if big.any() and len(ranked) >= 2:
        for label in range(n_labels):  # one-vs-rest: does the label come out at the same rate?
            truth, chosen = (t[big] == label).astype(int), (p[big] == label).astype(int)
            parity.append(demographic_parity_difference(truth, chosen, sensitive_features=g[big]))
            # Rates need records on both sides in every slice: with two true examples in a slice
            # a recall is 0, 0.5 or 1, and the largest gap over labels would be noise.
            positives = [int(truth[g[big] == value].sum()) for value in ranked.index]
            negatives = [int((1 - truth[g[big] == value]).sum()) for value in ranked.index]
            if min(positives) >= MIN_RATE_RECORDS and min(negatives) >= MIN_RATE_RECORDS:
                odds.append(equalized_odds_difference(truth, chosen, sensitive_features=g[big]))
    report["demographic_parity_difference"] = float(max(parity)) if parity else float("nan")
    report["equalized_odds_difference"] = float(max(odds)) if odds else float("nan")
    report["equalized_odds_labels"] = len(odds)  # labels with enough records in every slice
    return report


def slice_metrics(
    records: Sequence[dict[str, Any]],
    answers: Sequence[dict[str, Any]],
    labels: list[str],
    attributes: Sequence[str],
    min_size: int,
) -> dict[str, Any]:
    """{attribute: slice_report} plus `slice_gap` (the largest gap over the attributes) for gates."""
    index = {label: i for i, label in enumerate(labels)}
    y_true = [index.get(str(r["label"]), -1) for r in records]
    y_pred = [index[a["label"]] for a in answers]
    by_attribute = {
        name: slice_report(
            y_true,
            y_pred,
            [r.get("attributes", {}).get(name, "(missing)") for r in records],
            len(labels),
            min_size,
        )
        for name in attributes
    }
    gaps = {
        metric: max(
            (v[f"gap_{metric}"] for v in by_attribute.values() if v[f"gap_{metric}"] == v[f"gap_{metric}"]),
            default=float("nan"),
        )
        for metric in ("accuracy", "macro_f1")
    }
    return {"slices": by_attribute, "slice_gap": gaps}


def plot_slices(slices: dict[str, Any], path: Path, split: str) -> None:
    """Accuracy per slice, one panel per attribute; small slices hatched, counts on the bars."""
    import matplotlib.pyplot as plt

    from tunesmith.evaluate.plots import save_figure

    fig, axes = plt.subplots(1, len(slices), figsize=(5 * len(slices), 3.6), squeeze=False)
    for ax, (name, report) in zip(axes[0], slices.items(), strict=True):
        items = sorted(report["per_slice"].items(), key=lambda kv: kv[1]["accuracy"])
        bars = ax.barh(
            [k for k, _ in items],
            [v["accuracy"] for _, v in items],
            hatch=["//" if v["small"] else "" for _, v in items],
            color=["#bbbbbb" if v["small"] else "#4878d0" for _, v in items],
        )
        for bar, (_, v) in zip(bars, items, strict=True):
            ax.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f" n={v['count']}",
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, 1.15)
        ax.set_xlabel("accuracy")
        gap = report["gap_accuracy"]
        ax.set_title(f"{name} ({split}): gap {gap:.3f}" if gap == gap else f"{name} ({split})")
    save_figure(fig, path)
