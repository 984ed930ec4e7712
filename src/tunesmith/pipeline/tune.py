"""Hyperparameter search with Optuna: trials over the recipe's `tune.space`, the best becomes a run.

The data is prepared once and shared (hard links) by every trial; each trial is a run folder that
trains with its sampled values and reports the validation metric after every evaluation, so the
median pruner can stop a trial that trails. The study lives in a local SQLite file: rerunning
`tunesmith tune` with the same folder continues it. The best trial is evaluated, bundled and moved
to the output: a normal run whose recipe holds the chosen values.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tunesmith import atomic
from tunesmith import recipe as recipe_io
from tunesmith.console import console
from tunesmith.errors import RecipeError, TunesmithError
from tunesmith.prepare.stage import DATA_DIR, prepare
from tunesmith.recipe import Recipe, TuneRange
from tunesmith.train.arguments import best_metric
from tunesmith.train.stage import check_prepared, fit

PREPARED = "prepared"
STUDY_FILE = "optuna.db"


@dataclass(frozen=True)
class TuneResult:
    run_dir: Path
    best_params: dict[str, Any]
    best_value: float
    trials: list[dict[str, Any]]


def _suggest(trial: Any, key: str, choices: TuneRange | list[Any]) -> Any:
    if isinstance(choices, list):
        return trial.suggest_categorical(key, choices)
    integral = (
        choices.step is not None and float(choices.step).is_integer() and float(choices.low).is_integer()
    )
    if integral:
        return trial.suggest_int(
            key, int(choices.low), int(choices.high), step=int(choices.step), log=choices.log
        )  # type: ignore[arg-type]
    return trial.suggest_float(key, choices.low, choices.high, log=choices.log, step=choices.step)


def _with_values(recipe: Recipe, values: dict[str, Any]) -> Recipe:
    raw = recipe.model_dump(mode="json")
    for key, value in values.items():
        recipe_io.set_path(raw, key.split("."), value, f"tune.space {key!r}")
    return recipe_io.validate(raw, "tune.space")


def _link_data(prepared: Path, trial_dir: Path) -> None:
    """The prepared data, shared: hard links where the file system allows, copies elsewhere."""
    source = prepared / DATA_DIR
    for path in source.rglob("*"):
        target = trial_dir / DATA_DIR / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


class _ReportToTrial(TrainerCallback):  # type: ignore[misc]
    """Each validation result goes to Optuna, which may prune the trial."""

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial, self.metric = trial, f"eval_{metric}"

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: dict[str, float], **kwargs: Any
    ) -> Any:
        import optuna

        if self.metric in metrics:
            self.trial.report(float(metrics[self.metric]), step=state.global_step)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"{self.metric} {metrics[self.metric]:.4f} trails the median")
        return control


def tune(
    recipe: Recipe, output: Path, trials: int | None = None, overwrite: bool = False, force: bool = False
) -> TuneResult:
    """Search `recipe.tune.space` for `trials` trials; the best trial becomes the run in `output`;
    `force` tunes on splits the guards refuse."""
    try:
        import optuna
    except ImportError:
        raise TunesmithError("tunesmith tune needs Optuna: pip install 'tunesmith[tune]'") from None
    from tunesmith.bundle import check_output_free, start_run_folder
    from tunesmith.evaluate.stage import evaluate
    from tunesmith.pipeline.run import bundle

    space = recipe.tune.space
    if not space:
        raise RecipeError(
            "tune.space is empty: declare what to search, e.g.\n"
            "tune:\n  space:\n    training.learning_rate: {low: 1.0e-5, high: 1.0e-3, log: true}\n"
            "    training.batch_size: [16, 32]"
        )
    check_output_free(output, overwrite)
    study_dir = output.with_name(f"{output.name}-tune")
    prepared = study_dir / PREPARED
    if not (prepared / DATA_DIR / "report.json").is_file():
        start_run_folder(recipe, prepared)
        prepare(recipe, prepared)
    check_prepared(prepared, force)
    if recipe.tune.metric is not None:
        recipe = _with_values(recipe, {"training.metric_for_best_model": recipe.tune.metric})
    metric, greater = best_metric(recipe)
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=2) if recipe.tune.pruning else optuna.pruners.NopPruner()
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=recipe.name,
        storage=f"sqlite:///{(study_dir / STUDY_FILE).resolve()}",
        load_if_exists=True,  # the same folder continues the same study
        direction="maximize" if greater else "minimize",
        sampler=optuna.samplers.TPESampler(seed=recipe.seed),
        pruner=pruner,
    )

    def objective(trial: Any) -> float:
        values = {key: _suggest(trial, key, choices) for key, choices in space.items()}
        trial_recipe = _with_values(recipe, values)
        trial_dir = study_dir / f"trial-{trial.number}"
        shutil.rmtree(trial_dir, ignore_errors=True)
        start_run_folder(trial_recipe, trial_dir)
        _link_data(prepared, trial_dir)
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        console.rule(f"trial {trial.number}: {shown}")
        try:
            result = fit(trial_dir, extra_callbacks=[_ReportToTrial(trial, metric)])
        except optuna.TrialPruned:
            shutil.rmtree(trial_dir, ignore_errors=True)
            console.print(f"trial {trial.number} pruned")
            raise
        value = result.summary.get("best_metric")
        if value is None or not math.isfinite(float(value)):
            raise TunesmithError(
                f"trial {trial.number}: no validation {metric} (does the data have a validation split?)"
            )
        trial.set_user_attr("run_dir", str(trial_dir))
        return float(value)

    already = len(study.trials)
    study.optimize(objective, n_trials=trials or recipe.tune.trials, catch=())
    best = study.best_trial
    best_dir = Path(best.user_attrs["run_dir"])
    table = [
        {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params}
        for t in study.trials
    ]
    for row in table:  # only the best trial's model is kept
        folder = study_dir / f"trial-{row['number']}"
        if folder != best_dir and (folder / "model").is_dir():
            shutil.rmtree(folder / "model")
    _plot_history(table, metric, greater, study_dir / "tune_history.png")
    summary = {
        "metric": f"validation {metric}",
        "direction": study.direction.name.lower(),
        "best_trial": best.number,
        "best_value": best.value,
        "best_params": best.params,
        "trials_this_call": len(study.trials) - already,
        "trials": table,
    }
    atomic.write_json(study_dir / "tune_summary.json", summary)
    console.rule(f"best: trial {best.number}, validation {metric} {best.value:.4f}")
    evaluate(best_dir)
    atomic.write_json(best_dir / "tune_summary.json", summary)
    bundle(best_dir)
    # The study folder keeps its trials; the output gets a copy, renamed into place complete.
    staging = output.with_name(f".{output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(best_dir, staging)
    atomic.replace_dir(staging, output)
    console.print(f"[bold green]done:[/] {output} (study: {study_dir})")
    return TuneResult(output, best.params, float(best.value), table)


def _plot_history(trials: list[dict[str, Any]], metric: str, greater: bool, path: Path) -> None:
    from tunesmith.metrics.plots import line_plot

    done = [(t["number"], t["value"]) for t in trials if t["value"] is not None]
    best, running = [], None
    for number, value in done:
        running = value if running is None else (max if greater else min)(running, value)
        best.append((number, running))
    line_plot(
        panels=[(f"validation {metric}", {"trial": done, "best so far": best})],
        xlabel="trial",
        path=path,
    )
