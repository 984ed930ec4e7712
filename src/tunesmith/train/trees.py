"""The trees learner of a tabular run, and the choice between it and the transformer.

Reads the prepared splits' raw columns; fits LightGBM (`tasks/trees.py`), stopped on validation;
calibrates its scores and tunes its threshold with the task's own `calibrate`, on validation. When
the transformer trained too (`model/` holds it), both answer validation as they would be served,
and the better by the task's headline (PR-AUC for two labels, else macro-F1; a tie goes to the
trees, which are smaller and faster) becomes the bundle's model:
- trees: `model/` is replaced by `trees/`, `labels.json` and `task_state.json`;
- transformer: it stays, and the trees stay beside it in `model/trees/` (a few hundred KB) so the
  evaluation reports their test figures too.
Either way `task_state.json` holds the choice with both figures, and `train_summary.json` says
which learner is served, with the trees' rounds, seconds and added memory.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.bundle import LABELS_FILE, MODEL_DIR, TASK_STATE_FILE
from tunesmith.console import console
from tunesmith.metrics.plots import line_plot
from tunesmith.prepare.stage import read_labels, read_split
from tunesmith.recipe import load_resolved
from tunesmith.tasks import get_task
from tunesmith.tasks.binary_scores import positive_label, ranking_scores
from tunesmith.tasks.classification import label_indexes, macro_f1
from tunesmith.tasks.tabular import TRANSFORMER, TREES
from tunesmith.tasks.trees import TREES_DIR, Trees

SUMMARY_FILE = "train_summary.json"


def served_score(
    answers: list[dict[str, Any]], records: list[dict[str, Any]], labels: list[str]
) -> tuple[str, float]:
    """(metric, value) of answers as served: PR-AUC of the positive label's probability for two
    labels (the ranking the threshold cuts), else macro-F1 of the answered labels."""
    positive = positive_label(labels)
    if positive is not None:
        truth = [int(str(r["label"]) == positive) for r in records]
        scores = [a["probabilities"][positive] for a in answers]
        return "pr_auc", ranking_scores(truth, scores)["pr_auc"]
    truth, answered = label_indexes(records, answers, labels)
    return "macro_f1", macro_f1(truth, answered, len(labels))


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def train_trees(run_dir: Path, transformer_trained: bool) -> dict[str, Any]:
    """Fit the trees, choose the served learner, write `model/` and the summary; return the choice."""
    from tunesmith.runtime.predict import Predictor

    recipe = load_resolved(run_dir)
    task = get_task(recipe.task)
    labels = read_labels(run_dir)
    train, validation = read_split(run_dir, "train"), read_split(run_dir, "validation")
    with console.status("training gradient-boosted trees (LightGBM) on the raw columns..."):
        trees, fitted = Trees.fit(
            [r["columns"] for r in train],
            [r["label"] for r in train],
            [r["columns"] for r in validation],
            [r["label"] for r in validation],
            labels,
            recipe.seed,
        )
    console.print(
        f"[bold]trees[/]: {fitted['rounds']} rounds in {fitted['train_seconds']:.1f} s, "
        f"+{fitted['added_memory_bytes'] / 1e6:.0f} MB; {fitted['columns']}"
    )
    model_dir = run_dir / MODEL_DIR
    runtime = Predictor(run_dir, recipe, task, trees, None, labels, model_dir)
    state: dict[str, Any] = {"learner": TREES}
    scores: dict[str, float] = {}
    metric = "pr_auc" if positive_label(labels) else "macro_f1"
    if validation:
        state.update(
            task.calibrate(runtime.outputs(validation), [r["label"] for r in validation], labels) or {}
        )
        runtime.state = state
        metric, scores[TREES] = served_score(runtime.predict(validation), validation, labels)
    summary = _read_json(run_dir / SUMMARY_FILE) if transformer_trained else {}
    if transformer_trained and validation:
        transformer = Predictor.from_run(run_dir, verify=False, backend="torch")
        metric, scores[TRANSFORMER] = served_score(transformer.predict(validation), validation, labels)
    served = TREES if scores.get(TREES, 0.0) >= scores.get(TRANSFORMER, float("-inf")) else TRANSFORMER
    if not transformer_trained:
        served = TREES
    choice = _choice(served, metric, scores, fitted, summary)
    console.print(f"[bold]served[/]: {choice['reason']}")
    if served == TREES:
        _write_trees_bundle(model_dir, trees, labels, {**state, "choice": choice})
        _write_summary(run_dir, recipe, fitted, choice, summary)
    else:
        _add_runner_up(model_dir, trees, state, choice)
        atomic.write_json(run_dir / SUMMARY_FILE, {**summary, "trees": fitted, "choice": choice})
    return choice


def _choice(
    served: str, metric: str, scores: dict[str, float], fitted: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
    shown = " against ".join(
        f"{name} {value:.4f}" for name, value in sorted(scores.items(), key=lambda kv: kv[0] != served)
    )
    if len(scores) > 1:
        reason = f"{served}: validation {metric} {shown}"
    elif scores:
        reason = f"{served} (trained alone: the table holds no free text): validation {metric} {shown}"
    else:
        reason = f"{served} (trained alone, no validation split to compare on)"
    return {
        "served": served,
        "metric": metric,
        "validation": scores,
        "reason": reason,
        "seconds": {
            TREES: fitted["train_seconds"],
            **({TRANSFORMER: summary["train_runtime_s"]} if summary.get("train_runtime_s") else {}),
        },
        # the trees' measured addition to the process; the transformer's estimated training peak
        "memory_bytes": {
            TREES: fitted["added_memory_bytes"],
            **(
                {TRANSFORMER: summary["memory"]["estimated_peak_bytes"]}
                if summary.get("memory", {}).get("estimated_peak_bytes")
                else {}
            ),
        },
    }


def _write_trees_bundle(model_dir: Path, trees: Trees, labels: list[str], state: dict[str, Any]) -> None:
    """`model/` becomes the trees: the transformer that lost (if any) is replaced in one rename."""
    with atomic.staged_dir(model_dir) as stage:
        trees.save(stage / TREES_DIR)
        atomic.write_json(stage / LABELS_FILE, labels)
        atomic.write_json(stage / TASK_STATE_FILE, state)


def _add_runner_up(model_dir: Path, trees: Trees, state: dict[str, Any], choice: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(dir=model_dir) as scratch:
        trees.save(Path(scratch) / TREES_DIR)
        atomic.replace_dir(Path(scratch) / TREES_DIR, model_dir / TREES_DIR)
    kept = _read_json(model_dir / TASK_STATE_FILE)
    atomic.write_json(
        model_dir / TASK_STATE_FILE,
        {**kept, "learner": TRANSFORMER, "choice": choice, "runner_up_state": state},
    )


def _write_summary(
    run_dir: Path, recipe: Any, fitted: dict[str, Any], choice: dict[str, Any], transformer: dict[str, Any]
) -> None:
    """train_summary.json for a bundle served by trees (the transformer's, when it trained, inside)."""
    summary = {
        "model": "lightgbm (gradient-boosted trees)",
        "learner": TREES,
        "steps": fitted["rounds"],
        "epochs": None,
        "precision": "fp32 features",
        "world_size": 1,
        "train_runtime_s": fitted["train_seconds"],
        "trees": fitted,
        "choice": choice,
        "hyperparameters": {},
        **({"transformer": transformer} if transformer else {}),
    }
    atomic.write_json(run_dir / SUMMARY_FILE, summary)
    curves = fitted.get("curves")
    if curves:  # one panel per validation metric, by boosting round; the kept round marked in the title
        line_plot(
            panels=[
                (f"trees: validation {name} (kept round {fitted['rounds']})", {name: points})
                for name, points in curves.items()
            ],
            xlabel="boosting round",
            path=run_dir / "training_curves.png",
        )
