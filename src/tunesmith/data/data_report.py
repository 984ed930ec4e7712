"""The figures and advice of the data report, and the short summary printed after prepare."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.console import console

IMBALANCE_WARNING = 10.0


def length_stats(values: np.ndarray) -> dict[str, float]:
    """min, median, p95, max, mean: integers stay integers (lengths), numbers keep 4 decimals."""
    if not len(values):
        return {}
    integral = np.issubdtype(values.dtype, np.integer)

    def number(value: Any) -> float:
        return int(value) if integral else round(float(value), 4)

    return {
        "min": number(values.min()),
        "median": float(np.median(values)),
        "p95": number(np.percentile(values, 95, method="lower")),
        "max": number(values.max()),
        "mean": round(float(values.mean()), 1 if integral else 4),
    }


def _label_advice(label_counts: dict[str, Counter[str]], labels: list[str]) -> list[str]:
    """Advice about named labels: too few examples, unseen in train, imbalance."""
    advice: list[str] = []
    train = label_counts.get("train", Counter())
    singles = [label for label in labels if train.get(label, 0) == 1]
    if singles:
        shown = ", ".join(repr(s) for s in singles[:10])
        advice.append(
            f"{len(singles)} label(s) have a single training example ({shown}); "
            "they stay in train and cannot be evaluated: add examples or merge them."
        )
    few = [label for label in labels if 1 < train.get(label, 0) < 10]
    if few:
        advice.append(f"{len(few)} label(s) have fewer than 10 training examples.")
    for split in ("validation", "test"):
        unseen = sorted(set(label_counts.get(split, {})) - set(train))
        if unseen:
            advice.append(
                f"{split} has labels never seen in train ({', '.join(unseen[:10])}): "
                "the model cannot predict them."
            )
    if train and max(train.values()) / max(min(train.values()), 1) >= IMBALANCE_WARNING:
        ratio = max(train.values()) / min(train.values())
        advice.append(
            f"labels are imbalanced ({ratio:.0f}:1 between the largest and smallest): judge the model "
            "by macro-F1, not accuracy, and consider class weights or oversampling the small classes."
        )
    return advice


def data_advice(
    split_counts: dict[str, int],
    label_counts: dict[str, Counter[str]],
    labels: list[str],
    tokens: dict[str, Any],
    duplicates: dict[str, Any],
    accepted: int,
    categorical: bool,
) -> list[str]:
    advice = _label_advice(label_counts, labels) if categorical else []
    if tokens.get("truncated_share", 0) > 0.05:
        advice.append(
            f"{tokens['truncated_share']:.0%} of texts are longer than model.max_length "
            f"({tokens['max_length']} tokens; 95% fit in {tokens['p95']}): raise model.max_length or the "
            "end of those texts is never seen."
        )
    removed = duplicates.get("removed", 0)
    if accepted and removed / accepted > 0.1:
        advice.append(
            f"{removed / accepted:.0%} of records were duplicates or leaked between splits and were removed: "
            "check how the export was made (repeated rows, templated texts)."
        )
    for split in ("validation", "test"):
        if not split_counts.get(split):
            advice.append(f"the {split} split is empty.")
    return advice


def print_summary(report: dict[str, Any], out: Path) -> None:
    counts = report["split_counts"]
    console.print(
        f"[bold]prepared[/] {report['rows_accepted']:,} records "
        f"(train {counts['train']:,} / validation {counts['validation']:,} / "
        f"test {counts['test']:,}), {len(report['labels'])} labels, "
        f"language {report['language']}"
    )
    pii = report["pii"]
    if pii["enabled"] and pii["records_with_pii"]:
        kinds = ", ".join(f"{k} {v}" for k, v in pii["found_by_type"].items())
        console.print(f"de-identified {pii['records_with_pii']:,} records ({pii['action']}): {kinds}")
    elif not pii["enabled"]:
        console.print("[yellow]de-identification is off[/] (prepare.pii.enabled: false)")
    if report["rows_rejected"]:
        console.print(
            f"[yellow]rejected {report['rows_rejected']:,} records[/] "
            f"({', '.join(f'{k}: {v}' for k, v in report['rejected_by_reason'].items())}) "
            f"-> {out / 'rejected.jsonl'}"
        )
    overlaps = report.get("duplicates", {}).get("test_overlaps")
    if overlaps:
        console.print(
            f"the named test set is kept whole: {overlaps['kept']:,} of its {counts['test']:,} "
            "records repeat "
            "a training record or each other; evaluate reports the test figures with and without them"
        )
    for line in report["warnings"]:
        console.print(f"[yellow]warning:[/] {line}")
