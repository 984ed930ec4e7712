"""What a learner's outputs mean, by the task's kind of answer, and how several are averaged.

Every learner answers in its task's raw outputs, so the task's calibration, thresholds and
decoding treat all of them alike:
- `softmax`: one logit per label, the softmax of which is each label's probability (single-label
  classification, tables, matching pairs as the labels 0 and 1);
- `sigmoid`: one logit per label, each label's own probability (multi-label);
- `value`: one number (regression).
Averaging happens on probabilities (values for regression); the average goes back to logits
(log-probabilities, log-odds) so the task decodes it as it decodes one model's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["softmax", "sigmoid", "value"]
TINY = 1e-7


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))  # type: ignore[no-any-return]


def probabilities(kind: Kind, logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Each label's probability (for `value`, the value itself)."""
    z = np.asarray(logits, dtype=np.float64)
    if kind == "softmax":
        return softmax(z / temperature)
    if kind == "sigmoid":
        return sigmoid(z / temperature)
    return z


def as_logits(kind: Kind, scores: np.ndarray) -> np.ndarray:
    """The inverse of `probabilities` at temperature 1: what the task decodes."""
    p = np.asarray(scores, dtype=np.float64)
    if kind == "softmax":
        return np.log(np.clip(p, TINY, 1.0)).astype(np.float32)  # type: ignore[no-any-return]
    if kind == "sigmoid":
        p = np.clip(p, TINY, 1 - TINY)
        return np.log(p / (1 - p)).astype(np.float32)  # type: ignore[no-any-return]
    return p.astype(np.float32)


@dataclass
class Targets:
    """The training answers in the form a learner fits: label positions (softmax; -1 for a label
    the model does not know), a 0/1 matrix (sigmoid), numbers (value)."""

    kind: Kind
    labels: list[str]
    y: np.ndarray

    @classmethod
    def of(cls, kind: Kind, labels: list[str], raw: Sequence[object]) -> Targets:
        if kind == "softmax":
            index = {label: i for i, label in enumerate(labels)}
            return cls(kind, labels, np.asarray([index.get(str(v), -1) for v in raw], dtype=np.int64))
        if kind == "sigmoid":
            index = {label: i for i, label in enumerate(labels)}
            y = np.zeros((len(raw), len(labels)), dtype=np.int64)
            for row, names in enumerate(raw):
                for name in names:  # type: ignore[attr-defined]
                    if name in index:
                        y[row, index[name]] = 1
            return cls(kind, labels, y)
        return cls(kind, labels, np.asarray([float(v) for v in raw], dtype=np.float64))  # type: ignore[arg-type]

    @property
    def width(self) -> int:
        """Outputs per example: one per label, or one value."""
        return 1 if self.kind == "value" else len(self.labels)

    def take(self, rows: np.ndarray) -> Targets:
        return Targets(self.kind, self.labels, self.y[rows])

    def __len__(self) -> int:
        return len(self.y)
