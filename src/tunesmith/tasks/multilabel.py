"""Multi-label classification: any number of labels per text (an empty list means "none of these").

A sigmoid per label, trained with each label's positives weighted (`training.class_weights`);
after training, each label's decision threshold is tuned on validation for its best F1 - searched
over the scores the model actually gives, so a rare label whose scores all stay below 0.05 is
still predicted - and stored with the model (`task_state.json`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunesmith.data.fields import is_empty
from tunesmith.metrics.plots import bar_chart, save_figure
from tunesmith.metrics.uncertainty import SubsetMetric, mean_over, micro_f1_over
from tunesmith.tasks.label_scores import per_label_scores, write_label_table
from tunesmith.tasks.sequence_head import SequenceHead, build_head, logits_of, tokenize

if TYPE_CHECKING:  # training types; an ONNX runtime answers without transformers
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase

NONE = "(none)"


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def multi_hot(label_lists: Sequence[Sequence[str]], labels: list[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(label_lists), len(labels)), dtype=np.int64)
    for row, names in enumerate(label_lists):
        for name in names:
            if name in index:
                matrix[row, index[name]] = 1
    return matrix


def multilabel_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    return {
        "micro_f1": float(f1_score(truth, predicted, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        "samples_f1": float(f1_score(truth, predicted, average="samples", zero_division=0)),
        "subset_accuracy": float((truth == predicted).all(axis=1).mean()) if len(truth) else 0.0,
        "hamming_loss": float((truth != predicted).mean()) if truth.size else 0.0,
    }


def best_threshold(truth: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(threshold, F1): the cut between two adjacent distinct validation scores with the best F1
    for one label (ties: the highest cut, the fewest false alarms)."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], np.cumsum(truth[order])
    positives = truth.sum()
    ends = np.flatnonzero(np.r_[ranked[1:] < ranked[:-1], True])  # last position of each distinct score
    f1 = 2 * hits[ends] / (ends + 1 + positives)
    best = int(np.argmax(f1))
    end = ends[best]
    below = ranked[end + 1] if end + 1 < len(ranked) else 0.0
    return float((ranked[end] + below) / 2), float(f1[best])


class MultiLabelTask(SequenceHead):
    type = "multilabel"
    weighs_positives = True
    best_metric = "micro_f1"
    greater_is_better = True
    headline = ("micro_f1", "macro_f1", "subset_accuracy")
    learner_outputs = "sigmoid"

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        return ("ngram_linear", "transformer")

    def parse_label(self, value: Any) -> list[str]:
        """A list of names; a string is one name, or several separated by ';'. [] is valid."""
        if isinstance(value, dict):
            raise ValueError("the label is an object; multi-label classification needs a list of names")
        items = value if isinstance(value, list) else str(value).split(";")
        names = sorted({str(item).strip() for item in items if not is_empty(item) and str(item).strip()})
        return names

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        return sorted({name for names in labels for name in names})

    def stratify_key(self, label: Any) -> str:
        return label[0] if label else NONE

    def count_keys(self, label: Any) -> list[str]:
        return list(label) or [NONE]

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> PreTrainedModel:
        return build_head(model_dir, labels, "multi_label_classification", trust_remote_code)

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = tokenize(batch, tokenizer, max_length)
        encoded["labels"] = multi_hot(batch["label"], labels).astype(np.float32).tolist()
        return encoded

    def _thresholds(self, labels: list[str], state: dict[str, Any] | None) -> np.ndarray:
        tuned = (state or {}).get("thresholds", {})
        return np.array([tuned.get(label, 0.5) for label in labels])

    def decode(
        self,
        outputs: np.ndarray,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        probabilities = sigmoid(outputs)
        chosen = probabilities >= self._thresholds(labels, state)
        return [
            {
                "labels": [labels[j] for j in np.flatnonzero(row)],
                "probabilities": {labels[j]: float(p) for j, p in enumerate(probs)},
            }
            for row, probs in zip(chosen, probabilities, strict=True)
        ]

    def calibrate(
        self,
        logits: np.ndarray,
        references: Sequence[Any],
        labels: list[str],
        class_weights: Sequence[float] | None = None,
    ) -> dict[str, Any]:
        """Per label, the threshold with the best validation F1 among the model's own scores; 0.5
        for a label with no positive example in validation (nothing to tune it on)."""
        probabilities = sigmoid(logits)
        truth = multi_hot(references, labels)
        thresholds, untuned = {}, []
        for j, label in enumerate(labels):
            if not truth[:, j].any():
                thresholds[label] = 0.5
                untuned.append(label)
                continue
            thresholds[label] = best_threshold(truth[:, j], probabilities[:, j])[0]
        return {"thresholds": thresholds, "untuned": untuned}

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(prediction: EvalPrediction) -> dict[str, float]:
            truth = np.asarray(prediction.label_ids).astype(np.int64)
            return multilabel_metrics(truth, (sigmoid(logits_of(prediction)) >= 0.5).astype(np.int64))

        return compute

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        truth = multi_hot([r["label"] for r in records], labels)
        predicted = multi_hot([a["labels"] for a in answers], labels)

        def macro(rows: np.ndarray) -> float:
            t, p = truth[rows], predicted[rows]
            denominator = (t + p).sum(axis=0)
            f1 = np.divide(
                2 * (t & p).sum(axis=0), denominator, out=np.zeros(len(labels)), where=denominator > 0
            )
            return float(f1.mean())

        micro = micro_f1_over((truth & predicted).sum(axis=1), predicted.sum(axis=1), truth.sum(axis=1))
        return {
            "micro_f1": micro["f1"],
            "macro_f1": macro,
            "subset_accuracy": mean_over((truth == predicted).all(axis=1)),
        }

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """The same label set for every record: the one with the best micro-F1 on train (the most
        frequent labels, added while they help), with the training shares as probabilities."""
        if not train_labels:
            return None
        counts = {label: sum(label in names for names in train_labels) for label in labels}
        total, rows = sum(counts.values()), len(train_labels)
        chosen: list[str] = []
        best = 0.0
        for label in sorted(labels, key=lambda name: (-counts[name], name)):
            hits = sum(counts[name] for name in chosen) + counts[label]
            f1 = 2 * hits / (rows * (len(chosen) + 1) + total) if total else 0.0
            if f1 <= best:
                break
            chosen, best = [*chosen, label], f1
        prior = {label: counts[label] / rows for label in labels}
        shown = ", ".join(chosen) if chosen else "none"
        return f"the label prior: always [{shown}]", [
            {"labels": list(chosen), "probabilities": dict(prior)} for _ in records
        ]

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        truth = multi_hot([r["label"] for r in records], labels)
        predicted = multi_hot([a["labels"] for a in answers], labels)
        metrics: dict[str, Any] = multilabel_metrics(truth, predicted)
        metrics["count"] = len(records)
        per_label = per_label_scores(truth, predicted, labels)
        metrics["per_label"] = per_label
        write_label_table(per_label, out_dir / f"per_label_{split}.csv")
        figure = bar_chart({k: v["f1"] for k, v in per_label.items()}, f"F1 per label ({split})", "F1")
        save_figure(figure, out_dir / f"f1_per_label_{split}.png")
        return metrics
