"""Tabular records (transactions, claims): each row becomes a sentence through `data.text_template`
and a transformer classifies it, while a gradient-boosting model (scikit-learn's
HistGradientBoosting) is trained on the same rows' raw columns and the same split, and reported
beside it. On fraud-like data the trees usually win, and the report says so: a user should see
when a transformer is the wrong tool.

For a binary label the decision threshold of both models is tuned on validation (best F1) and
stored with the bundle; PR-AUC and ROC-AUC are reported, and a precision-recall plot shows both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, precision_recall_curve
from transformers import EvalPrediction

from tunesmith.evaluate.plots import save_figure
from tunesmith.tasks.binary_scores import positive_label, ranking_scores, tuned_threshold
from tunesmith.tasks.classification import ClassificationTask, softmax, summary_metrics
from tunesmith.tasks.sequence_head import logits_of

MAX_CATEGORIES = 250  # HistGradientBoosting bins a categorical column into at most 255 values


class ColumnTable:
    """Raw columns as a frame the trees read: numbers stay numbers, text becomes categories (the
    categories are the training rows'); a column of near-unique strings (ids) is left out."""

    def __init__(self, train_columns: list[dict[str, Any]]) -> None:
        frame = pd.DataFrame(train_columns)
        self.numeric: list[str] = []
        self.categories: dict[str, list[Any]] = {}
        self.dropped: list[str] = []
        for name in frame.columns:
            numbers = pd.to_numeric(frame[name], errors="coerce")
            if numbers.notna().mean() >= 0.95:
                self.numeric.append(name)
            elif frame[name].nunique() <= MAX_CATEGORIES:
                self.categories[name] = sorted(frame[name].dropna().astype(str).unique())
            else:
                self.dropped.append(name)

    def frame(self, columns: list[dict[str, Any]]) -> pd.DataFrame:
        raw = pd.DataFrame(columns)
        out = pd.DataFrame(index=raw.index)
        for name in self.numeric:
            out[name] = pd.to_numeric(raw.get(name), errors="coerce")
        for name, values in self.categories.items():
            out[name] = pd.Categorical(raw.get(name).astype(str), categories=values)
        return out


class TabularTask(ClassificationTask):
    type = "tabular"
    keeps_columns = True
    headline = ("accuracy", "macro_f1", "pr_auc")

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._baseline: dict[str, Any] | None = None

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        positive = positive_label(labels)

        def compute(prediction: EvalPrediction) -> dict[str, float]:
            logits = logits_of(prediction)
            metrics = summary_metrics(prediction.label_ids, logits.argmax(axis=-1), len(labels))
            if positive is not None:
                scores = softmax(logits.astype(np.float64))[:, labels.index(positive)]
                truth = (np.asarray(prediction.label_ids) == labels.index(positive)).astype(int)
                metrics.update(ranking_scores(truth, scores))
            return metrics

        return compute

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        metrics = super().evaluate(records, answers, labels, out_dir, split)  # binary: PR-AUC etc. too
        positive = positive_label(labels)
        truth = [int(str(r["label"]) == positive) for r in records]
        if not self.options.baseline:
            return metrics
        baseline = self._fit_baseline(out_dir, labels)
        probabilities = baseline["model"].predict_proba(
            baseline["table"].frame([r["columns"] for r in records])
        )
        predicted = self._baseline_labels(probabilities, baseline, labels)
        index = {label: i for i, label in enumerate(labels)}
        scores = summary_metrics([index.get(str(r["label"]), -1) for r in records], predicted, len(labels))
        if positive is not None:
            scores.update(ranking_scores(truth, probabilities[:, labels.index(positive)]))
            self._plot_pr(
                truth,
                [a["probabilities"][positive] for a in answers],
                probabilities[:, labels.index(positive)],
                out_dir / f"pr_curve_{split}.png",
                split,
            )
        scores["dropped_columns"] = baseline["table"].dropped
        metrics["baseline"] = scores
        key = "pr_auc" if positive is not None else "macro_f1"
        gap = scores[key] - metrics[key]
        if gap > 0.02:
            metrics["advice"] = (
                f"the gradient-boosting baseline beats the transformer on {key} by {gap:.3f}: "
                "on this table a transformer may be the wrong tool"
            )
        return metrics

    def _fit_baseline(self, run_dir: Path, labels: list[str]) -> dict[str, Any]:
        """Trained once per evaluation, on the run's own train split; the threshold on validation."""
        if self._baseline is not None:
            return self._baseline
        train = _read(run_dir / "data" / "train.jsonl")
        table = ColumnTable([r["columns"] for r in train])
        index = {label: i for i, label in enumerate(labels)}
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
        model.fit(table.frame([r["columns"] for r in train]), [index[str(r["label"])] for r in train])
        baseline: dict[str, Any] = {"model": model, "table": table, "threshold": None}
        positive = positive_label(labels)
        validation = _read(run_dir / "data" / "validation.jsonl")
        tuned = self.options.threshold != "argmax"
        if tuned and positive is not None and validation and len(model.classes_) == 2:
            scores = model.predict_proba(table.frame([r["columns"] for r in validation]))[:, index[positive]]
            truth = [int(str(r["label"]) == positive) for r in validation]
            baseline["threshold"] = tuned_threshold(scores, truth, self.options.threshold)["threshold"]
        self._baseline = baseline
        return baseline

    def _baseline_labels(
        self, probabilities: np.ndarray, baseline: dict[str, Any], labels: list[str]
    ) -> list[int]:
        classes = baseline["model"].classes_
        full = np.zeros((len(probabilities), len(labels)))
        full[:, classes] = probabilities
        positive = positive_label(labels)
        if baseline["threshold"] is not None and positive is not None:
            p = labels.index(positive)
            return [p if row[p] >= baseline["threshold"] else 1 - p for row in full]
        return [int(i) for i in full.argmax(axis=1)]

    @staticmethod
    def _plot_pr(
        truth: list[int], transformer: Sequence[float], trees: Sequence[float], path: Path, split: str
    ) -> None:
        import matplotlib.pyplot as plt

        if not 0 < sum(truth) < len(truth):
            return
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for name, scores in (("transformer", transformer), ("gradient boosting", trees)):
            precision, recall, _ = precision_recall_curve(truth, scores)
            ap = average_precision_score(truth, scores)
            ax.plot(recall, precision, label=f"{name} (PR-AUC {ap:.3f})")
        ax.axhline(np.mean(truth), color="grey", linestyle=":", label="base rate")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title(f"precision-recall ({split}, n={len(truth)})")
        ax.legend(fontsize=8)
        save_figure(fig, path)


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
