"""Every learner the task offers, fitted and ranked on validation; the winner is the bundle's model.

The fast learners (n-grams, columns, pair figures: seconds each) fit first, each into
`learners/<name>/` of the run; the transformer fine-tunes into `model/` with the time that is
left (train/budget.py). A learner that fails is reported with its error and the others go on.
Each learner's validation logits get one temperature (calibrated scores); the best single
learner and Caruana's greedy weighted ensemble over all of them are compared on the task's
validation score (learners/scoring.py), and the ensemble is kept only where it beats the best
single learner. Then `model/` holds the winner:
- the transformer (alone or in the ensemble) stays at `model/`'s root, as a transformer alone
  always has; other members move to `model/learners/<name>/`;
- `model/learners.json` lists the members with their weights and temperatures, the choice with
  its reason and the leaderboard of every learner (validation score, seconds, ms per row);
- `model/task_state.json` holds the task's calibration of the winner (thresholds, temperature),
  fitted on validation - and, where every member has out-of-fold scores of the training rows
  (bagged learners), on those too.
Learners that lost stay in `learners/` of the run (a transformer too), so evaluation can put
their test figures on the leaderboard.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith import atomic
from tunesmith.bundle import LABELS_FILE, MODEL_DIR, TASK_STATE_FILE
from tunesmith.console import console
from tunesmith.errors import ModelNotFoundError, RecipeError, TrainingStopped
from tunesmith.learners.catalog import TRANSFORMER, title
from tunesmith.learners.ensemble import LEARNERS_FILE, combine, member_dir
from tunesmith.learners.member import FeatureMember
from tunesmith.learners.outputs import Kind, Targets, probabilities
from tunesmith.learners.scoring import score
from tunesmith.prepare.stage import read_labels, read_split
from tunesmith.recipe import Recipe, load_resolved
from tunesmith.tasks import Task, get_task
from tunesmith.tasks.binary_scores import positive_label
from tunesmith.train.budget import Budget, duration
from tunesmith.train.choose import Candidate, choose, fallback
from tunesmith.train.leaderboard import Fitted, print_leaderboard, summary_of
from tunesmith.train.result import TrainResult
from tunesmith.train.time_plan import SPEED_SAMPLE, OutOfTime

SUMMARY_FILE = "train_summary.json"
RUN_LEARNERS = "learners"  # <run>/learners/<name>/: fitted learners that are not (in) the model
FOLDS = 5
SMALL_ROWS = 2_000  # fewer training rows: every fast learner is bagged over folds
BAG_ROWS = 10_000  # up to this many, learners of a task with tuned thresholds are bagged too


def learners_to_train(run_dir: Path, recipe: Recipe, task: Task) -> list[str]:
    """The task's learners, or the subset `training.learners` names (in the task's order)."""
    offered = list(task.learners(run_dir))
    wanted = recipe.training.learners
    if wanted == "auto":
        return offered
    unknown = [name for name in wanted if name not in offered]
    if unknown:
        raise RecipeError(
            f"training.learners names {', '.join(unknown)}, which a {task.type} run does not offer; "
            f"it offers: {', '.join(offered)}"
        )
    return [name for name in offered if name in wanted]


def examples_of(task: Task, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in task.inputs if r.get(k) is not None} for r in records]


def folds_for(
    records: list[dict[str, Any]], targets: Targets, seed: int
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Folds for bagging the fast learners: on a small training split (variance dominates), or
    where thresholds are tuned (multi-label, two labels) on a moderate one - out-of-fold scores of
    every training row then join validation for the thresholds. Records of one group (a patient,
    a document) stay in one fold."""
    rows = len(records)
    tuned = targets.kind == "sigmoid" or (targets.kind == "softmax" and targets.width == 2)
    if rows < 2 * FOLDS or not (rows < SMALL_ROWS or (tuned and rows <= BAG_ROWS)):
        return None
    return fold_split(records, targets, seed)


def fold_split(
    records: list[dict[str, Any]], targets: Targets, seed: int, folds: int = FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`folds` (fitted rows, held-out rows) pairs: by group where every record has one and there
    are enough groups, else stratified by label where every label has a row per fold, else at
    random (seeded)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    index = np.arange(len(records))
    groups = [r.get("group") for r in records]
    if all(g is not None for g in groups) and len(set(groups)) >= folds:
        return [(a, b) for a, b in GroupKFold(folds).split(index, groups=groups)]
    if targets.kind == "softmax":
        present = np.bincount(targets.y[targets.y >= 0], minlength=targets.width)
        present = present[present > 0]
        if len(present) and present.min() >= folds:
            split = StratifiedKFold(folds, shuffle=True, random_state=seed)
            return [(a, b) for a, b in split.split(index, np.maximum(targets.y, 0))]
    return [(a, b) for a, b in KFold(folds, shuffle=True, random_state=seed).split(index)]


def train_learners(
    run_dir: Path, names: list[str], train_transformer: Callable[[], TrainResult]
) -> TrainResult:
    """Fit `names` (the transformer through `train_transformer`), choose, write `model/`."""
    recipe = load_resolved(run_dir)
    task = get_task(recipe.task)
    kind: Kind = task.learner_outputs  # type: ignore[assignment]
    labels = read_labels(run_dir)
    train_records, validation_records = read_split(run_dir, "train"), read_split(run_dir, "validation")
    train, validation = examples_of(task, train_records), examples_of(task, validation_records)
    targets = Targets.of(kind, labels, [r["label"] for r in train_records])
    validation_targets = Targets.of(kind, labels, [r["label"] for r in validation_records])
    budget = Budget(recipe.training.time_limit)
    fast = [n for n in names if n != TRANSFORMER]
    console.print(
        f"[bold]learners[/]: {', '.join(names)}"
        + (f"; time limit {budget.describe()}" if budget.limit else "")
    )
    folds = folds_for(train_records, targets, recipe.seed) if fast else None
    if folds:
        console.print(f"bagging the fast learners over {len(folds)} folds ({len(train):,} training rows)")
    fitted: dict[str, Fitted] = {}
    for name in fast:
        fitted[name] = _fit_fast(
            run_dir, name, train, targets, validation, validation_targets, recipe.seed, folds
        )
    transformer_summary: dict[str, Any] = {}
    if TRANSFORMER in names:
        result, fitted[TRANSFORMER] = _fit_transformer(
            run_dir, task, labels, validation, budget, train_transformer
        )
        transformer_summary = result.summary if result is not None else {}
    working = {n: f for n, f in fitted.items() if f.error is None}
    if not working:
        errors = "; ".join(f"{n}: {f.error}" for n, f in fitted.items())
        raise RecipeError(f"no learner could be fitted: {errors}")
    positive = _positive(task, labels, kind)
    choice = _choose(working, targets, validation_targets, kind, positive, recipe.training.ensemble)
    if choice["served"] == "ensemble":  # its leaderboard figure: on validation, as every learner's
        combined = _combined(choice, working, kind, "validation")
        found = score(kind, probabilities(kind, combined), validation_targets, positive)  # type: ignore[arg-type]
        choice["ensemble"]["validation"] = found.value
    for f in working.values():
        if f.validation is not None:
            f.state = _own_state(task, f, validation_records, labels)
    state = _winner_state(task, choice, working, train_records, validation_records, labels, kind)
    _write_model(run_dir, task, labels, kind, choice, fitted, state)
    if task.fit_search_examples and validation_records:  # the knowledge base's hand-over, as served
        state = _with_search(run_dir, recipe, task, labels, state, validation_records)
    summary = summary_of(recipe, choice, fitted, transformer_summary, budget)
    atomic.write_json(run_dir / SUMMARY_FILE, summary)
    print_leaderboard(summary)
    console.print(f"[bold]served[/]: {choice['reason']}")
    if budget.limit is not None:
        used = budget.elapsed()
        over = f" [yellow]({used - budget.limit:.0f} s over it)[/]" if used > budget.limit else ""
        console.print(f"time limit {budget.describe()}: fitting took {duration(used)}{over}")
    return TrainResult(run_dir / MODEL_DIR, summary)


def _positive(task: Task, labels: list[str], kind: Kind) -> int | None:
    if kind != "softmax" or len(labels) != 2:
        return None
    found = positive_label(labels)
    return labels.index(found) if found is not None else 1


def _fit_fast(
    run_dir: Path,
    name: str,
    train: list[dict[str, Any]],
    targets: Targets,
    validation: list[dict[str, Any]],
    validation_targets: Targets,
    seed: int,
    folds: list[tuple[np.ndarray, np.ndarray]] | None,
) -> Fitted:
    """One fast learner, saved to `learners/<name>/`; its failure is reported, not raised."""
    result = Fitted(name)
    started = time.perf_counter()
    try:
        with console.status(f"fitting {name} ({title(name)})..."):
            member, details = FeatureMember.fit(
                name, train, targets, validation, validation_targets, seed, folds
            )
            timed = time.perf_counter()
            result.validation = member.logits(validation) if validation else None
            if validation:
                result.ms_per_row = (time.perf_counter() - timed) * 1000 / len(validation)
            member.save(run_dir / RUN_LEARNERS / name)
    except Exception as error:  # a learner that fails is reported; the others go on
        result.error = f"{type(error).__name__}: {error}"
        result.seconds = time.perf_counter() - started
        console.print(f"[yellow]{name} failed[/] ({result.error}); the other learners go on")
        return result
    result.oof = details.pop("oof", None)
    details.pop("curves", None)
    result.details = details
    result.seconds = time.perf_counter() - started
    console.print(f"{name}: fitted in {result.seconds:.1f} s ({details.get('features', '')})")
    return result


def _fit_transformer(
    run_dir: Path,
    task: Task,
    labels: list[str],
    validation: list[dict[str, Any]],
    budget: Budget,
    train_transformer: Callable[[float | None], TrainResult],
) -> tuple[TrainResult | None, Fitted]:
    """The transformer into `model/`, within what the budget leaves; its failure is reported."""
    fitted = Fitted(TRANSFORMER)
    started = time.perf_counter()
    left = budget.remaining()
    try:
        result = train_transformer(None if left is None else time.time() + left)
    except (TrainingStopped, KeyboardInterrupt, RecipeError, ModelNotFoundError):
        raise  # stopped, or the recipe asks for what cannot be: the user's to change
    except OutOfTime as error:
        fitted.error = f"skipped: {error}"
        fitted.skipped = True
        budget.notes.append(f"transformer {fitted.error}")
        console.print(f"[yellow]transformer {fitted.error}[/]")
        return None, fitted
    except Exception as error:  # a failure while fitting (out of memory, a crash): the others go on
        fitted.error = f"{type(error).__name__}: {error}"
        fitted.seconds = time.perf_counter() - started
        console.print(f"[yellow]the transformer failed[/] ({fitted.error}); the other learners go on")
        return None, fitted
    fitted.seconds = time.perf_counter() - started
    fitted.details = {
        "model": result.summary.get("model"),
        "steps": result.summary.get("steps"),
        "epochs": result.summary.get("epochs"),
        "train_runtime_s": result.summary.get("train_runtime_s"),
    }
    if validation:
        fitted.validation, fitted.ms_per_row = _transformer_logits(
            run_dir, validation, result.validation_outputs
        )
    state_file = run_dir / MODEL_DIR / TASK_STATE_FILE
    fitted.state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else None
    return result, fitted


def _transformer_logits(
    run_dir: Path, validation: list[dict[str, Any]], outputs: Any
) -> tuple[np.ndarray, float]:
    """(the transformer's validation logits - from the outputs training calibrated on, or matching
    scores turned back into logits, else predicted now -, its milliseconds per row, timed on a sample)."""
    from tunesmith.runtime.predict import Predictor
    from tunesmith.tasks.sequence_head import token_logits

    predictor = Predictor.from_run(run_dir, verify=False, backend="torch")
    width = len(predictor.labels)

    def logits_of(examples: list[dict[str, Any]]) -> np.ndarray:
        return token_logits(
            predictor.tokenizer, predictor.infer, examples, predictor.recipe.model.max_length, 64, width
        ).astype(np.float32)

    sample = validation[:SPEED_SAMPLE]
    timed = time.perf_counter()
    logits_of(sample)
    ms_per_row = (time.perf_counter() - timed) * 1000 / len(sample)
    if isinstance(outputs, np.ndarray):
        return outputs.astype(np.float32), ms_per_row
    if isinstance(outputs, list) and outputs and "score" in outputs[0]:
        s = np.clip(np.asarray([o["score"] for o in outputs], dtype=np.float64), 1e-7, 1 - 1e-7)
        return np.log(np.column_stack([1 - s, s])).astype(np.float32), ms_per_row
    return logits_of(validation), ms_per_row


def _choose(
    fitted: dict[str, Fitted],
    train: Targets,
    validation: Targets,
    kind: Kind,
    positive: int | None,
    ensemble: bool,
) -> dict[str, Any]:
    """train/choose.py's choice over the learners that answered validation; each learner's
    temperature and validation score are kept on its `Fitted`."""
    scored = [n for n, f in fitted.items() if f.validation is not None]
    if not scored or not len(validation):
        return fallback(list(fitted))
    candidates = [Candidate(n, fitted[n].validation, fitted[n].oof) for n in scored]  # type: ignore[arg-type]
    choice = choose(candidates, train, validation, kind, positive, ensemble)
    for c in candidates:
        fitted[c.name].temperature, fitted[c.name].score = c.temperature, c.score
    return choice


def _combined(choice: dict[str, Any], fitted: dict[str, Fitted], kind: Kind, which: str) -> np.ndarray | None:
    """The winner's logits on validation (`which` = "validation") or out of fold ("oof")."""
    parts = []
    for member in choice["members"]:
        logits = getattr(fitted[member["learner"]], which)
        if logits is None:
            return None
        parts.append((logits, member["weight"], member["temperature"]))
    return combine(kind, parts)


def _own_state(
    task: Task, fitted: Fitted, validation: list[dict[str, Any]], labels: list[str]
) -> dict[str, Any] | None:
    """A learner's own calibration (thresholds, temperature), for its figures on the leaderboard."""
    if fitted.name == TRANSFORMER and fitted.state is not None:
        return fitted.state
    outputs = task.outputs_of_logits(fitted.validation)  # type: ignore[arg-type]
    return task.calibrate(outputs, [r["label"] for r in validation], labels)


def _winner_state(
    task: Task,
    choice: dict[str, Any],
    fitted: dict[str, Fitted],
    train: list[dict[str, Any]],
    validation: list[dict[str, Any]],
    labels: list[str],
    kind: Kind,
) -> dict[str, Any] | None:
    """The task's calibration of the winner: on validation, and on the training rows' out-of-fold
    scores too where every member has them."""
    if choice["served"] == TRANSFORMER:
        return fitted[TRANSFORMER].state
    logits = _combined(choice, fitted, kind, "validation")
    if logits is None:
        return None
    references = [r["label"] for r in validation]
    oof = _combined(choice, fitted, kind, "oof")
    if oof is not None:
        logits = np.concatenate([oof, logits])
        references = [r["label"] for r in train] + references
        choice["calibrated_on"] = f"{len(references):,} rows: out-of-fold training scores and validation"
    else:
        choice["calibrated_on"] = f"{len(references):,} validation rows"
    return task.calibrate(task.outputs_of_logits(logits), references, labels)


def _write_model(
    run_dir: Path,
    task: Task,
    labels: list[str],
    kind: Kind,
    choice: dict[str, Any],
    fitted: dict[str, Fitted],
    state: dict[str, Any] | None,
) -> None:
    """`model/` becomes the winner; the learners that are not in it stay in `learners/`."""
    model_dir = run_dir / MODEL_DIR
    members = [m["learner"] for m in choice["members"]]
    learners_dir = run_dir / RUN_LEARNERS
    if TRANSFORMER in fitted and fitted[TRANSFORMER].error is None and TRANSFORMER not in members:
        target = learners_dir / TRANSFORMER  # it lost: kept for its test figure, not served
        learners_dir.mkdir(exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(model_dir, target)
    if TRANSFORMER in members:
        staging = model_dir.with_name(f".{MODEL_DIR}.learners")
        shutil.rmtree(staging, ignore_errors=True)
        os.replace(model_dir, staging)  # add the members beside the transformer, then move back
    else:
        staging = Path(atomic_dir(model_dir))
    for name in members:
        if name != TRANSFORMER:
            target = member_dir(staging, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(learners_dir / name, target)
    atomic.write_json(staging / LABELS_FILE, labels)
    if TRANSFORMER not in members:
        task.save_extras(run_dir, staging)
    if state is not None:
        atomic.write_json(staging / TASK_STATE_FILE, state)
    spec = {
        "kind": kind,
        "served": choice["served"],
        "members": choice["members"],
        "reason": choice["reason"],
        "metric": choice.get("metric"),
        "states": {n: fitted[n].state for n in members if fitted[n].state is not None},
    }
    atomic.write_json(staging / LEARNERS_FILE, spec)
    if model_dir.exists():
        shutil.rmtree(model_dir)
    os.replace(staging, model_dir)
    if learners_dir.is_dir() and not any(learners_dir.iterdir()):
        learners_dir.rmdir()


def atomic_dir(model_dir: Path) -> str:
    import tempfile

    model_dir.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=f".{model_dir.name}.tmp-", dir=model_dir.parent)


def _with_search(
    run_dir: Path,
    recipe: Recipe,
    task: Task,
    labels: list[str],
    state: dict[str, Any] | None,
    validation: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """Matching: the knowledge-base hand-over threshold, searched with the model as it answers."""
    from tunesmith.runtime.predict import Predictor

    predictor = Predictor.from_run(run_dir, verify=False, backend="torch")
    searched = task.fit_search(predictor, validation)
    if not searched:
        return state
    state = {**(state or {}), **searched}
    atomic.write_json(run_dir / MODEL_DIR / TASK_STATE_FILE, state)
    return state
