"""Tabular records (transactions, claims): a label from a row's columns.

Two learners can read a row, and `task.tabular_model` says which train:
- gradient-boosted trees (LightGBM, `tasks/trees.py`) on the raw columns - numbers, categories,
  dates - the standard model for such tables;
- the transformer on each row written as a sentence through `data.text_template`, which can also
  read a free-text column (a note, a description) that trees cannot.
`auto` trains the trees alone on a table of numbers, categories and dates, and both when a column
holds free text; then the one with the better validation score (PR-AUC for two labels, else
macro-F1) becomes the bundle's model, and the choice with both figures is kept in
`model/task_state.json`. A bundle served by trees holds `model/trees/` and no tokenizer.

Scores are calibrated like the classification task's (one temperature on validation), and a
binary decision threshold is tuned on validation: best F1, or the least cost (`task.cost`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.console import progress
from tunesmith.metrics.plots import pyplot, save_figure
from tunesmith.tasks.base import Runtime
from tunesmith.tasks.binary_scores import positive_label, ranking_scores
from tunesmith.tasks.classification import (
    ClassificationTask,
    label_indexes,
    macro_f1,
    softmax,
    summary_metrics,
)
from tunesmith.tasks.tabular_features import ColumnTable
from tunesmith.tasks.trees import FEATURES_FILE, TREES_DIR, Trees

TREES, TRANSFORMER = "trees", "transformer"
TRANSFORMER_FILE = "config.json"  # a bundle whose model/ holds it is served by the transformer


def reads_columns(runtime: Runtime) -> bool:
    """The bundle answers with trees: they read the row's columns (a trees bundle has no tokenizer)."""
    return runtime.tokenizer is None


def column_table(runtime: Runtime) -> ColumnTable:
    """How the trees read a row: the loaded trees' own table, or (an export answering) the one
    saved beside them."""
    if isinstance(runtime.model, Trees):
        return runtime.model.table
    table = runtime.cache.get("column_table")
    if table is None:
        table = runtime.cache["column_table"] = ColumnTable.load(
            runtime.model_dir / TREES_DIR / FEATURES_FILE
        )
    return table  # type: ignore[no-any-return]


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class TabularTask(ClassificationTask):
    type = "tabular"
    keeps_columns = True
    inputs = ("text", "columns")
    headline = ("accuracy", "macro_f1", "pr_auc")

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        """What trains: the recipe's `tabular_model`, or for auto the training rows decide (trees
        alone unless a column holds free text)."""
        wanted = self.options.tabular_model
        if wanted == TREES:
            return (TREES,)
        if wanted == TRANSFORMER:
            return (TRANSFORMER,)
        if wanted == "best":
            return (TRANSFORMER, TREES)
        rows = [r["columns"] for r in _read(run_dir / "data" / "train.jsonl")[:5000]]
        return (TRANSFORMER, TREES) if ColumnTable.fit(rows).free_text else (TREES,)

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        if (model_dir / TRANSFORMER_FILE).is_file():
            return super().load_model(model_dir, trust_remote_code)
        labels = json.loads((model_dir / "labels.json").read_text(encoding="utf-8"))
        return Trees.load(model_dir / TREES_DIR, labels)

    def engine_batches(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int
    ) -> list[dict[str, Any]]:
        """What the trees read, `batch_size` rows at a time: the features of each row's columns."""
        table = column_table(runtime)
        return [
            {"features": table.features([e["columns"] for e in examples[start : start + batch_size]])}
            for start in range(0, len(examples), batch_size)
        ]

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> np.ndarray:
        if not reads_columns(runtime):
            return super().outputs(runtime, examples, batch_size, show)
        found = []
        with progress(show=show) as bar:
            job = bar.add_task("predicting", total=len(examples))
            for batch in self.engine_batches(runtime, examples, max(batch_size, 1024)):
                found.append(runtime.infer(batch)["logits"])
                bar.advance(job, len(batch["features"]))
        return np.concatenate(found) if found else np.zeros((0, len(runtime.labels)))

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        metrics = super().evaluate(records, answers, labels, out_dir, split)  # binary: PR-AUC etc. too
        state_file = out_dir / "model" / "task_state.json"
        state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else {}
        choice = state.get("choice")
        if choice:
            metrics["choice"] = choice
        runner_up = out_dir / "model" / TREES_DIR
        if choice and choice["served"] == TRANSFORMER and runner_up.is_dir():
            metrics["runner_up"] = self._runner_up(records, answers, labels, out_dir, split, state)
        return metrics

    def _runner_up(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
        state: dict[str, Any],
    ) -> dict[str, Any]:
        """The trees' figures on this split when the transformer won (kept beside it, small)."""
        trees = Trees.load(out_dir / "model" / TREES_DIR, labels)
        logits = trees({"features": trees.table.features([r["columns"] for r in records])})["logits"]
        theirs = self.decode(logits, records, labels, state.get("runner_up_state"))
        truth, predicted = label_indexes(records, theirs, labels)
        scores: dict[str, Any] = {"learner": TREES, **summary_metrics(truth, predicted, len(labels))}
        positive = positive_label(labels)
        if positive is not None:
            truth_01 = [int(str(r["label"]) == positive) for r in records]
            tree_scores = [a["probabilities"][positive] for a in theirs]
            scores.update(ranking_scores(truth_01, tree_scores))
            served = [a["probabilities"][positive] for a in answers]
            _plot_pr(
                truth_01,
                {"transformer": served, "trees": tree_scores},
                out_dir / f"pr_curve_{split}.png",
                split,
            )
        return scores


def validation_score(logits: np.ndarray, references: Sequence[Any], labels: list[str]) -> tuple[str, float]:
    """(metric, value) that picks the learner: PR-AUC of the positive label for two labels (the
    ranking a threshold is then chosen on), else macro-F1."""
    index = {label: i for i, label in enumerate(labels)}
    truth = np.asarray([index.get(str(r), -1) for r in references])
    positive = positive_label(labels)
    if positive is not None:
        scores = softmax(np.asarray(logits, dtype=np.float64))[:, labels.index(positive)]
        return "pr_auc", ranking_scores((truth == labels.index(positive)).astype(int), scores)["pr_auc"]
    return "macro_f1", macro_f1(truth, np.asarray(logits).argmax(axis=1), len(labels))


def _plot_pr(truth: list[int], scores: dict[str, Sequence[float]], path: Path, split: str) -> None:
    plt = pyplot()
    from sklearn.metrics import average_precision_score, precision_recall_curve

    if not 0 < sum(truth) < len(truth):
        return
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, values in scores.items():
        precision, recall, _ = precision_recall_curve(truth, values)
        ax.plot(recall, precision, label=f"{name} (PR-AUC {average_precision_score(truth, values):.3f})")
    ax.axhline(np.mean(truth), color="grey", linestyle=":", label="base rate")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"precision-recall ({split}, n={len(truth)})")
    ax.legend(fontsize=8)
    save_figure(fig, path)
