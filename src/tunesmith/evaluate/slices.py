"""Metrics per subgroup (slice) of the test set, through fairlearn's MetricFrame.

For each attribute in `evaluation.slices`: the task's headline metrics per value with its count,
the largest gap and the smallest ratio between slices, and the worst slice. For single-label
classification also fairlearn's demographic parity and equalized odds differences (one-vs-rest per
label, the largest reported; equalized odds only over labels with at least 10 true and 10 other
records in every ranked slice). A slice with fewer than `evaluation.min_slice` records is shown
but marked small and left out of gaps and ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.metrics.plots import pyplot
from tunesmith.metrics.uncertainty import SubsetMetric, higher_is_better

MIN_RATE_RECORDS = 10  # true (and false) examples of a label per slice before its rates count


def slice_report(
    metrics: dict[str, SubsetMetric],
    groups: Sequence[str],
    min_size: int,
    label_indexes: tuple[Sequence[int], Sequence[int], int] | None = None,
) -> dict[str, Any]:
    """Per-slice values of `metrics` (functions of record positions), gaps, ratios and the worst
    slice; with `label_indexes` (truth, predicted, label count) the fairness differences too."""
    from fairlearn.metrics import MetricFrame, count

    rows, g = np.arange(len(groups)), np.asarray(groups, dtype=object)
    frame = MetricFrame(
        # the "labels" MetricFrame slices are record positions; each metric scores its slice's
        metrics={
            **{name: (lambda t, _p, m=metric: m(np.asarray(t))) for name, metric in metrics.items()},
            "count": count,
        },
        y_true=rows,
        y_pred=rows,
        sensitive_features=g,
    )
    table = frame.by_group
    per_slice = {
        str(value): {
            "count": int(row["count"]),
            **{name: float(row[name]) for name in metrics},
            "small": int(row["count"]) < min_size,
        }
        for value, row in table.iterrows()
    }
    ranked = table[table["count"] >= min_size]
    report: dict[str, Any] = {"per_slice": per_slice, "ranked_slices": len(ranked)}
    for metric in metrics:
        report[f"gap_{metric}"] = report[f"ratio_{metric}"] = float("nan")
        if len(ranked) >= 2:
            values = ranked[metric].astype(float)
            report[f"gap_{metric}"] = float(values.max() - values.min())
            if values.max() > 0:
                report[f"ratio_{metric}"] = float(values.min() / values.max())
            report[f"worst_slice_{metric}"] = str(
                values.idxmin() if higher_is_better(metric) else values.idxmax()
            )
    if label_indexes is not None:
        report.update(_fairness(label_indexes, g, [str(v) for v in ranked.index]))
    return report


def _fairness(
    label_indexes: tuple[Sequence[int], Sequence[int], int], g: np.ndarray, ranked: list[str]
) -> dict[str, Any]:
    """Demographic parity and equalized odds differences, one-vs-rest per label, the largest."""
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    truth_all, predicted_all, n_labels = label_indexes
    t, p = np.asarray(truth_all), np.asarray(predicted_all)
    big = np.isin(g, np.asarray(ranked, dtype=object))
    parity, odds = [], []
    if big.any() and len(ranked) >= 2:
        for label in range(n_labels):  # one-vs-rest: does the label come out at the same rate?
            truth, chosen = (t[big] == label).astype(int), (p[big] == label).astype(int)
            parity.append(demographic_parity_difference(truth, chosen, sensitive_features=g[big]))
            # Rates need records on both sides in every slice: with two true examples in a slice
            # a recall is 0, 0.5 or 1, and the largest gap over labels would be noise.
            positives = [int(truth[g[big] == value].sum()) for value in ranked]
            negatives = [int((1 - truth[g[big] == value]).sum()) for value in ranked]
            if min(positives) >= MIN_RATE_RECORDS and min(negatives) >= MIN_RATE_RECORDS:
                odds.append(equalized_odds_difference(truth, chosen, sensitive_features=g[big]))
    return {
        "demographic_parity_difference": float(max(parity)) if parity else float("nan"),
        "equalized_odds_difference": float(max(odds)) if odds else float("nan"),
        "equalized_odds_labels": len(odds),  # labels with enough records in every slice
    }


def slice_metrics(
    records: Sequence[dict[str, Any]],
    metrics: dict[str, SubsetMetric],
    attributes: Sequence[str],
    min_size: int,
    label_indexes: tuple[Sequence[int], Sequence[int], int] | None = None,
) -> dict[str, Any]:
    """{attribute: slice_report} plus `slice_gap` (the largest gap over the attributes) for gates."""
    by_attribute = {
        name: slice_report(
            metrics,
            [str(r.get("attributes", {}).get(name, "(missing)")) for r in records],
            min_size,
            label_indexes,
        )
        for name in attributes
    }
    gaps = {
        metric: max(
            (v[f"gap_{metric}"] for v in by_attribute.values() if v[f"gap_{metric}"] == v[f"gap_{metric}"]),
            default=float("nan"),
        )
        for metric in metrics
    }
    return {"slices": by_attribute, "slice_gap": gaps}


def metric_names(report: dict[str, Any]) -> list[str]:
    """The metrics a `slice_report` holds per slice, the task's lead metric first."""
    first = next(iter(report["per_slice"].values()))
    return [k for k in first if k not in ("count", "small")]


def shown_metric(report: dict[str, Any]) -> str:
    """The metric a slice plot and summary line lead with: the first the task reports."""
    return metric_names(report)[0]


def plot_slices(slices: dict[str, Any], path: Path, split: str) -> None:
    """The lead metric per slice, one panel per attribute; small slices hatched, counts on the bars."""
    plt = pyplot()
    from tunesmith.metrics.plots import save_figure

    fig, axes = plt.subplots(1, len(slices), figsize=(5 * len(slices), 3.6), squeeze=False)
    for ax, (name, report) in zip(axes[0], slices.items(), strict=True):
        metric = shown_metric(report)
        items = sorted(report["per_slice"].items(), key=lambda kv: kv[1][metric])
        bars = ax.barh(
            [k for k, _ in items],
            [v[metric] for _, v in items],
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
        top = max(v[metric] for _, v in items)
        ax.set_xlim(0, 1.15 if top <= 1 else 1.15 * top)
        ax.set_xlabel(metric)
        gap = report[f"gap_{metric}"]
        ax.set_title(f"{name} ({split}): gap {gap:.3f}" if gap == gap else f"{name} ({split})")
    save_figure(fig, path)
