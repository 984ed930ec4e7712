"""Single-label text classification: a softmax head over the label names.

With two labels the decision threshold on the positive label's probability is tuned on validation
(`task.threshold`: best F1, or a target precision or recall) and stored in the bundle."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunesmith.metrics.plots import plot_confusion_matrix
from tunesmith.metrics.uncertainty import (
    SubsetMetric,
    expected_calibration_error,
    fit_temperature,
    mean_over,
    plot_reliability,
)
from tunesmith.tasks.binary_scores import (
    average_precision,
    cost_report,
    cost_threshold,
    plot_roc_pr,
    positive_label,
    ranking_scores,
    threshold_table,
    tuned_threshold,
)
from tunesmith.tasks.label_scores import per_label_scores, write_label_table
from tunesmith.tasks.sequence_head import SequenceHead, build_head, logits_of, tokenize

if TYPE_CHECKING:  # training types; an ONNX runtime answers without transformers
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def summary_metrics(y_true: Sequence[int], y_pred: Sequence[int], n_labels: int) -> dict:
    from sklearn.metrics import accuracy_score, classification_report

    report = classification_report(
        y_true, y_pred, labels=list(range(n_labels)), output_dict=True, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_precision": float(report["macro avg"]["precision"]),
        "macro_recall": float(report["macro avg"]["recall"]),
        "macro_f1": float(report["macro avg"]["f1-score"]),
        "weighted_precision": float(report["weighted avg"]["precision"]),
        "weighted_recall": float(report["weighted avg"]["recall"]),
        "weighted_f1": float(report["weighted avg"]["f1-score"]),
    }


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> float:
    """Macro F1 over all `n_labels` (absent ones count 0, like scikit-learn with `labels=`), from
    counts: the bootstrap calls it a thousand times per split, sklearn's report is too slow."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    keep = (t >= 0) & (t < n_labels)
    hits = np.bincount(t[keep & (t == p)], minlength=n_labels)
    true_counts = np.bincount(t[keep], minlength=n_labels)
    predicted_counts = np.bincount(p[(p >= 0) & (p < n_labels)], minlength=n_labels)
    denominator = true_counts + predicted_counts
    f1 = np.divide(2 * hits, denominator, out=np.zeros(n_labels), where=denominator > 0)
    return float(f1.mean())


def label_indexes(
    records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(truth, answered) as positions in `labels`; a true label the model does not know is -1."""
    index = {label: i for i, label in enumerate(labels)}
    truth = np.asarray([index.get(str(r["label"]), -1) for r in records], dtype=np.int64)
    return truth, np.asarray([index[a["label"]] for a in answers], dtype=np.int64)


def label_metrics(truth: np.ndarray, predicted: np.ndarray, n_labels: int) -> dict[str, SubsetMetric]:
    """Accuracy and macro-F1 of label indexes as functions of record positions."""
    return {
        "accuracy": mean_over(truth == predicted),
        "macro_f1": lambda rows: macro_f1(truth[rows], predicted[rows], n_labels),
    }


_INTEGRAL_FLOAT = re.compile(r"^[+-]?\d+\.0+$")
WEIGHTS_MARGIN = 0.005  # macro-F1 on validation that class weights must add to stay


def judge_class_weights(logits: np.ndarray, truth: np.ndarray, weights: Sequence[float]) -> dict[str, Any]:
    """Keep the class weights a model was trained with only where they raise macro-F1 on validation.

    Training with weight w_y shifts the model's logits by about log w_y (its posterior becomes
    w_y p(y|x), up to a constant), so subtracting log w_y gives the decisions of a model trained
    without them - the logit adjustment of Menon et al. (2021) run backwards - and the two can be
    compared without training twice."""
    undo = -np.log(np.asarray(weights, dtype=np.float64))
    n = logits.shape[1]
    with_weights = macro_f1(truth, logits.argmax(axis=1), n)
    without = macro_f1(truth, (logits + undo).argmax(axis=1), n)
    kept = with_weights >= without + WEIGHTS_MARGIN
    verdict = {"kept": bool(kept), "macro_f1_with": with_weights, "macro_f1_without": without}
    if kept:
        return {"class_weights": verdict}
    return {"class_weights": verdict, "logit_adjustment": undo.tolist()}


class ClassificationTask(SequenceHead):
    type = "classification"
    best_metric = "macro_f1"
    greater_is_better = True
    weighs_classes = True
    headline = ("accuracy", "macro_f1", "weighted_f1")
    learner_outputs = "softmax"

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        return ("ngram_linear", "transformer")

    def parse_label(self, value: Any) -> str:
        if isinstance(value, list | dict):
            raise ValueError("the label is a list or object; single-label classification needs one")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        label = str(value).strip()
        if _INTEGRAL_FLOAT.match(label):  # "1.0": an integer column that pandas turned float by a NaN
            label = label.split(".")[0]
        if not label:
            raise ValueError("the label is empty")
        return label

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> PreTrainedModel:
        return build_head(model_dir, labels, "single_label_classification", trust_remote_code)

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = tokenize(batch, tokenizer, max_length)
        index = {label: i for i, label in enumerate(labels)}
        encoded["labels"] = [index[label] for label in batch["label"]]
        return encoded

    def decode(
        self,
        outputs: np.ndarray,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        temperature = (state or {}).get("temperature", 1.0)
        adjustment = np.asarray((state or {}).get("logit_adjustment", 0.0))  # class weights undone
        logits = np.asarray(outputs, dtype=np.float64) + adjustment
        probabilities = softmax(logits / temperature)
        threshold = (state or {}).get("threshold")
        positive = labels.index(state["positive"]) if threshold is not None else -1  # type: ignore[index]
        answers = []
        for row in probabilities:
            best = int(row.argmax())
            if threshold is not None:
                best = positive if row[positive] >= threshold else 1 - positive
            answers.append(
                {
                    "label": labels[best],
                    "score": float(row[best]),
                    "probabilities": {labels[i]: float(p) for i, p in enumerate(row)},
                }
            )
        return answers

    def _binary_report(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        positive: str,
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        """Ranking scores, ROC and PR curves, and a threshold table for the positive label."""
        scores = [a["probabilities"][positive] for a in answers]
        truth = [int(str(r["label"]) == positive) for r in records]
        flagged = [a["label"] == positive for a in answers]  # the decisions actually made
        # The operating threshold as the answers show it: the lowest score that was flagged.
        operating = min((s for s, f in zip(scores, flagged, strict=True) if f), default=None)
        grid = [round(0.1 * k, 1) for k in range(1, 10)] + ([operating] if operating is not None else [])
        ranking = ranking_scores(truth, scores)
        if 0 < sum(truth) < len(truth):  # curves need both classes
            path = out_dir / f"roc_pr_{split}.png"
            plot_roc_pr(scores, truth, flagged, ranking, path, f"{positive} vs rest ({split})")
        found = {**ranking, "threshold_table": threshold_table(scores, truth, grid)}
        if self.options.cost:
            found["cost"] = cost_report(flagged, truth, self.options.cost)
        return found

    def calibrate(
        self,
        outputs: Any,
        references: Sequence[Any],
        labels: list[str],
        class_weights: Sequence[float] | None = None,
    ) -> dict[str, Any] | None:
        """On validation: whether auto class weights stay in the decisions, the temperature that
        makes probabilities honest (`task.calibration`), then for binary labels the threshold on
        the positive label's (scaled) probability."""
        logits = np.asarray(outputs, dtype=np.float64)
        state: dict[str, Any] = {}
        index = {label: i for i, label in enumerate(labels)}
        truth = np.asarray([index.get(str(r), -1) for r in references])
        if class_weights is not None and positive_label(labels) is None:
            state.update(judge_class_weights(logits, truth, class_weights))
            logits = logits + np.asarray(state.get("logit_adjustment", 0.0))
        if self.options.calibration == "temperature":
            state["temperature"] = fit_temperature(logits, truth.tolist())
        positive = positive_label(labels)
        if positive is not None and (self.options.cost or self.options.threshold != "argmax"):
            scores = softmax(logits / state.get("temperature", 1.0))[:, labels.index(positive)]
            truth = [int(str(r) == positive) for r in references]
            chosen = (
                cost_threshold(scores, truth, self.options.cost)
                if self.options.cost
                else tuned_threshold(scores, truth, self.options.threshold)
            )
            state.update({"positive": positive, **chosen})
        return state or None

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        """Accuracy and macro-F1; with two labels also PR-AUC of the positive label's probability
        (the ranking a fraud team reads) when the answers carry probabilities, each as a function of
        record positions."""
        found = label_metrics(*label_indexes(records, answers, labels), len(labels))
        positive = positive_label(labels)
        if positive is not None and all("probabilities" in a for a in answers):
            truth = np.asarray([int(str(r["label"]) == positive) for r in records])
            scores = np.asarray([a["probabilities"][positive] for a in answers], dtype=np.float64)
            found["pr_auc"] = lambda rows: average_precision(truth[rows], scores[rows])
        return found

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """The largest training class for every record, with the training shares as probabilities."""
        counts = Counter(str(label) for label in train_labels if str(label) in labels)
        if not counts:
            return None
        largest = min(counts, key=lambda label: (-counts[label], label))
        prior = {label: counts[label] / sum(counts.values()) for label in labels}
        answer = {"label": largest, "score": prior[largest], "probabilities": prior}
        return f"the largest class, '{largest}'", [dict(answer) for _ in records]

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(prediction: EvalPrediction) -> dict[str, float]:
            y_pred = logits_of(prediction).argmax(axis=-1)
            return summary_metrics(prediction.label_ids, y_pred, len(labels))

        return compute

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        from sklearn.metrics import confusion_matrix

        y_true, y_pred = label_indexes(records, answers, labels)
        metrics: dict[str, Any] = summary_metrics(y_true, y_pred, len(labels))
        metrics["count"] = len(y_true)
        confidence = [a["score"] for a in answers]
        correct = y_true == y_pred
        metrics["ece"] = expected_calibration_error(confidence, correct)
        plot_reliability(confidence, correct, out_dir / f"reliability_{split}.png", f"Calibration ({split})")
        positive = positive_label(labels)
        if positive is not None:
            metrics.update(self._binary_report(records, answers, positive, out_dir, split))
        per_class = per_label_scores(y_true, y_pred, labels)
        metrics["per_class"] = per_class
        write_label_table(per_class, out_dir / f"per_class_{split}.csv")
        matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(labels))))
        metrics["confusion_matrix"] = matrix.tolist()
        plot_confusion_matrix(
            matrix,
            labels,
            out_dir / f"confusion_matrix_{split}.png",
            title=f"Confusion matrix ({split}, n={len(y_true)})",
        )
        return metrics
