"""Every learner of the run on the test split, beside its validation figure: the leaderboard.

Training ranked the learners on validation (train/learners.py); here each one - the members of
the model and the learners that lost, kept in the run's `learners/` - answers the test split as
it would be served alone (with its own calibration), and the same figure is computed for it, with
the task's headline metrics. The model itself (one learner or the ensemble) is the row that
`served` marks. For two labels, one precision-recall plot holds every learner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from tunesmith.console import console
from tunesmith.learners.catalog import TRANSFORMER
from tunesmith.learners.ensemble import Ensemble, Member
from tunesmith.learners.member import FeatureMember
from tunesmith.learners.outputs import Targets, probabilities
from tunesmith.learners.scoring import score
from tunesmith.learners.transformer import TokenMember
from tunesmith.metrics.plots import pyplot, save_figure
from tunesmith.runtime.engines import TorchEngine
from tunesmith.runtime.predict import Predictor
from tunesmith.tasks.binary_scores import positive_label

RUN_LEARNERS = "learners"
PLOT = "leaderboard_pr_{split}.png"


def _member(predictor: Predictor, name: str) -> Member | None:
    """A learner of the run: a member of the model, or one that lost (in the run's `learners/`)."""
    engine = predictor.engine
    if isinstance(engine, Ensemble):
        found = engine.member(name)
        if found is not None:
            return found
    folder = predictor.run_dir / RUN_LEARNERS / name
    if not folder.is_dir():
        return None
    if name != TRANSFORMER:
        return FeatureMember.load(folder)
    task, recipe = predictor.task, predictor.recipe
    from transformers import AutoTokenizer

    model = task.load_model(folder, recipe.model.trust_remote_code)
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=recipe.model.trust_remote_code)
    engine_ = TorchEngine(task.inference_graph(model), task.graph_outputs)
    width = 1 if task.learner_outputs == "value" else len(predictor.labels)
    return TokenMember(tokenizer, engine_, recipe.model.max_length, width, recipe.evaluation.batch_size)


def remember_transformer(predictor: Predictor) -> None:
    """Score a split once for the model and its members alike: the transformer member keeps its
    logits, so the leaderboard reads them instead of running it again."""
    if isinstance(predictor.engine, Ensemble):
        for member, _, _ in predictor.engine.members:
            if isinstance(member, TokenMember):
                member.remember = True


def learner_figures(
    predictor: Predictor,
    board: list[dict[str, Any]],
    records: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    states: dict[str, Any],
    run_dir: Path,
    split: str,
) -> list[dict[str, Any]]:
    """Each learner's figures on `records`: the validation metric and the task's headline."""
    task, labels = predictor.task, predictor.labels
    kind = task.learner_outputs
    metric = next(
        (m for row in board for m in row.get("validation", {}) if m not in ("log_loss", "mse")), None
    )
    if kind is None or metric is None:
        return []
    examples = [{k: r[k] for k in task.inputs if r.get(k) is not None} for r in records]
    targets = Targets.of(kind, labels, [r["label"] for r in records])  # type: ignore[arg-type]
    positive = None
    if kind == "softmax" and len(labels) == 2:
        found = positive_label(labels)
        positive = labels.index(found) if found is not None else 1
    rows, curves = [], {}
    for entry in board:
        name = entry["learner"]
        if entry.get("status") != "fitted":
            continue
        if name == "ensemble" or (name == _served(predictor) and entry.get("weight") == 1.0):
            shown = _figures(task, records, answers, labels)
            if positive is not None:
                curves[name] = [
                    a["score"] if "score" in a else a["probabilities"][labels[positive]] for a in answers
                ]
            rows.append(
                {
                    "learner": name,
                    "served": True,
                    **shown,
                    **_served_metric(answers, targets, kind, labels, positive, metric),
                }
            )
            continue
        member = _member(predictor, name)
        if member is None:
            continue
        logits = member.logits(examples)
        own = states.get(name) or entry.get("state") or _transformer_state(run_dir, name)
        theirs = task.decode(task.outputs_of_logits(logits), examples, labels, own)
        found = score(kind, probabilities(kind, logits, entry.get("temperature", 1.0)), targets, positive)  # type: ignore[arg-type]
        row = {
            "learner": name,
            "served": False,
            metric: found.value,
            **_figures(task, records, theirs, labels),
        }
        rows.append(row)
        if positive is not None:
            curves[name] = probabilities(kind, logits)[:, positive].tolist()  # type: ignore[arg-type]
    if curves and positive is not None:
        truth = [int(t == positive) for t in targets.y]
        _plot_curves(truth, curves, run_dir / PLOT.format(split=split), split)
    return rows


def _transformer_state(run_dir: Path, name: str) -> dict[str, Any] | None:
    """The calibration a transformer that lost was trained with (kept in its folder)."""
    path = run_dir / RUN_LEARNERS / name / "task_state.json"
    if name != TRANSFORMER or not path.is_file():
        return None
    import json

    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _served(predictor: Predictor) -> str | None:
    engine = predictor.engine
    if isinstance(engine, Ensemble) and engine.single:
        return engine.members[0][0].name
    return TRANSFORMER if not isinstance(engine, Ensemble) else None


def _figures(
    task: Any, records: list[dict[str, Any]], answers: list[dict[str, Any]], labels: list[str]
) -> dict[str, float]:
    everything = np.arange(len(records))
    return {name: float(fn(everything)) for name, fn in task.subset_metrics(records, answers, labels).items()}


def _served_metric(
    answers: list[dict[str, Any]],
    targets: Targets,
    kind: str | None,
    labels: list[str],
    positive: int | None,
    metric: str,
) -> dict[str, float]:
    """A threshold-free ranking figure of the model's own answers (their probabilities or values)
    where the task's metrics do not give it; never a figure with thresholds tuned on this split."""
    if kind == "value":
        values = np.asarray([[a["value"]] for a in answers])
        return {metric: score("value", values, targets, None).value}
    if kind == "sigmoid":
        return {}
    if answers and "probabilities" in answers[0]:
        p = np.asarray([[a["probabilities"][label] for label in labels] for a in answers])
        return {metric: score("softmax", p, targets, positive).value}
    if answers and "score" in answers[0]:  # matching pairs: the probability of a match
        s = np.asarray([a["score"] for a in answers], dtype=np.float64)
        return {metric: score("softmax", np.column_stack([1 - s, s]), targets, positive).value}
    return {}


def print_leaderboard(rows: list[dict[str, Any]], board: list[dict[str, Any]], split: str) -> None:
    metric = next(
        (m for row in board for m in row.get("validation", {}) if m not in ("log_loss", "mse")), None
    )
    if not rows or metric is None:
        return
    validation = {row["learner"]: row.get("validation", {}).get(metric) for row in board}
    table = Table(title=f"leaderboard: validation and {split}")
    for column in ("learner", f"validation {metric}", f"{split} {metric}"):
        table.add_column(column, justify="left" if column == "learner" else "right")
    for row in rows:
        value = validation.get(row["learner"])
        table.add_row(
            row["learner"] + (" (served)" if row.get("served") else ""),
            "-" if value is None else f"{value:.4f}",
            "-" if row.get(metric) is None else f"{row[metric]:.4f}",
        )
    console.print(table)


def _plot_curves(truth: list[int], scores: dict[str, list[float]], path: Path, split: str) -> None:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    if not 0 < sum(truth) < len(truth):
        return
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, values in scores.items():
        precision, recall, _ = precision_recall_curve(truth, values)
        ax.plot(recall, precision, label=f"{name} (PR-AUC {average_precision_score(truth, values):.3f})")
    ax.axhline(float(np.mean(truth)), color="grey", linestyle=":", label="base rate")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"precision-recall of each learner ({split}, n={len(truth)})")
    ax.legend(fontsize=7)
    save_figure(fig, path)
