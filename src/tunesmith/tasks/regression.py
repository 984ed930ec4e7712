"""Regression: one number per text (a score, an amount, a severity), a linear head trained on MSE."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunesmith.metrics.plots import scatter_plot
from tunesmith.metrics.uncertainty import SubsetMetric, mean_over
from tunesmith.tasks.sequence_head import SequenceHead, build_head, logits_of, tokenize

if TYPE_CHECKING:  # training types; an ONNX runtime answers without transformers
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase

VALUE = "value"


def regression_metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float]:
    from scipy.stats import spearmanr
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    truth, predicted = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    spearman = spearmanr(truth, predicted).statistic if len(truth) > 1 else float("nan")
    return {
        "rmse": float(math.sqrt(mean_squared_error(truth, predicted))),
        "mae": float(mean_absolute_error(truth, predicted)),
        "r2": float(r2_score(truth, predicted)) if len(truth) > 1 else float("nan"),
        "spearman": float(spearman) if spearman == spearman else 0.0,  # NaN when a side is constant
    }


class RegressionTask(SequenceHead):
    type = "regression"
    categorical = False
    best_metric = "rmse"
    greater_is_better = False
    headline = ("rmse", "mae", "r2", "spearman")
    learner_outputs = "value"

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        return ("ngram_linear", "transformer")

    def parse_label(self, value: Any) -> float:
        if isinstance(value, bool | list | dict):
            raise ValueError(f"regression needs a number, got {value!r}")
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            raise ValueError(f"regression needs a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"regression needs a finite number, got {value!r}")
        return number

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        return [VALUE]

    def stratify_key(self, label: Any) -> str:
        return ""  # one stratum: a stratified split of numbers is a random split

    def count_keys(self, label: Any) -> list[str]:
        return [""]

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> PreTrainedModel:
        return build_head(model_dir, [VALUE], "regression", trust_remote_code)

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = tokenize(batch, tokenizer, max_length)
        encoded["labels"] = [float(v) for v in batch["label"]]
        return encoded

    def decode(
        self,
        outputs: np.ndarray,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        values = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
        return [{"value": float(row[0])} for row in values]

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(prediction: EvalPrediction) -> dict[str, float]:
            return regression_metrics(np.asarray(prediction.label_ids).ravel(), logits_of(prediction).ravel())

        return compute

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        errors = np.asarray([a["value"] - float(r["label"]) for r, a in zip(records, answers, strict=True)])
        squared = mean_over(errors**2)
        return {"rmse": lambda rows: math.sqrt(squared(rows)), "mae": mean_over(np.abs(errors))}

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        if not train_labels:
            return None
        mean = float(np.mean([float(v) for v in train_labels]))
        return f"the training mean, {mean:.4g}", [{"value": mean} for _ in records]

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        truth = [float(r["label"]) for r in records]
        predicted = [a["value"] for a in answers]
        metrics: dict[str, Any] = regression_metrics(truth, predicted)
        metrics["count"] = len(truth)
        scatter_plot(
            truth,
            predicted,
            out_dir / f"predicted_vs_true_{split}.png",
            title=f"predicted vs true ({split}, n={len(truth)})",
        )
        return metrics
