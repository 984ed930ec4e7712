"""The one interface every task type implements, and every stage calls.

A task owns what differs between task types: what a valid label is, the model head, how a
batch is encoded, how logits become answers, and which metrics and plots judge it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase


class Task(Protocol):
    type: str
    categorical: bool  # labels are names (counted, stratified, advised on) rather than numbers
    best_metric: str  # the validation metric that picks the best checkpoint by default
    greater_is_better: bool
    headline: tuple[str, ...]  # the metrics tables and the model card show

    def parse_label(self, value: Any) -> Any:
        """Normalise a raw label; raise ValueError with the reason when it is not valid."""
        ...

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        """The ordered label names the model head is built for."""
        ...

    def stratify_key(self, label: Any) -> str:
        """The value splits are stratified on."""
        ...

    def count_keys(self, label: Any) -> list[str]:
        """The names a label is counted under in the data report (several for multi-label)."""
        ...

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> PreTrainedModel:
        """Load the pretrained encoder with a fresh head for `labels`."""
        ...

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        """Tokenize a batch of prepared records (no padding: the collator pads per batch)."""
        ...

    def decode(
        self, logits: np.ndarray, labels: list[str], state: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Turn a batch of logits into answers: what `predict` and the server return. `state` is
        what `calibrate` returned (e.g. tuned thresholds)."""
        ...

    def calibrate(
        self, logits: np.ndarray, references: Sequence[Any], labels: list[str]
    ) -> dict[str, Any] | None:
        """After training, fit decision settings on validation logits (file order); None: nothing to fit."""
        ...

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        """The `compute_metrics` function the Trainer calls on validation."""
        ...

    def evaluate(
        self,
        references: Sequence[Any],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        """Metrics for one split; may write plots and tables into `out_dir`."""
        ...
