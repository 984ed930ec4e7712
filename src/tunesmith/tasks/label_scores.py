"""Precision, recall, F1 and support per label, and their CSV table: what the single-label and
multi-label tasks report the same way."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np


def per_label_scores(truth: Any, predicted: Any, labels: list[str]) -> dict[str, dict[str, float]]:
    """`truth`/`predicted`: label indexes (single-label) or indicator matrices (multi-label)."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        np.asarray(truth), np.asarray(predicted), labels=list(range(len(labels))), zero_division=0
    )
    return {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }


def write_label_table(scores: dict[str, dict[str, float]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "precision", "recall", "f1", "support"])
        for label, row in scores.items():
            writer.writerow(
                [label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", row["support"]]
            )
