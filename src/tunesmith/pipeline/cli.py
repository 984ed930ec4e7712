"""`tunesmith run`, `tune` and `distill`: whole runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith.console import console
from tunesmith.options import (
    ForceOption,
    NprocOption,
    OutputOption,
    ResumeOption,
    RunDir,
    SetOption,
    TimeLimitOption,
    load_recipe,
)
from tunesmith.train.cli import processes_for

app = typer.Typer()


@app.command()
def distill(
    run_dir: RunDir,
    output: Annotated[Path, typer.Option("--output", "-o", help="The student's run folder.")],
    layers: Annotated[
        int | None, typer.Option(help="Encoder layers the student keeps (default: half the teacher's).")
    ] = None,
    unlabelled: Annotated[
        Path | None,
        typer.Option(help="More texts for the teacher to score (a data file read like the training data)."),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the texts.")] = 6,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already at --output.")] = False,
) -> None:
    """Train a smaller student on RUN_DIR's answers: the same fine-tuned model with fewer layers,
    taught by the teacher's scores over its training texts (and --unlabelled ones). The student is
    a run like any other (evaluated, exported, bundled); distill.json holds the share of test
    answers it gives as the teacher does, beside both headline metrics.

    Examples:

        tunesmith distill runs/faq --output runs/faq-small

        tunesmith distill runs/faq --output runs/faq-small --layers 2 --unlabelled tickets.csv
    """
    from tunesmith.bundle import check_output_free
    from tunesmith.pipeline.distill import distill as distill_run
    from tunesmith.train.distillation import DistillOptions

    check_output_free(output, overwrite)
    distill_run(run_dir, output, DistillOptions(layers=layers, unlabelled=unlabelled, epochs=epochs))
    console.print(f"next: tunesmith serve {output}")


@app.command()
def run(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file.")],
    set_: SetOption = None,
    output: OutputOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in OUTPUT.")] = False,
    resume: ResumeOption = False,
    nproc: NprocOption = 1,
    force: ForceOption = False,
    time_limit: TimeLimitOption = None,
) -> None:
    """The whole line: prepare -> train -> evaluate -> bundle.

    Examples:

        tunesmith run recipe.yaml

        tunesmith run recipe.yaml --time-limit 20m   # the learners' time; the stages around it add theirs

        tunesmith run recipe.yaml --set training.epochs=1 --set model.name=./my-model -o runs/try

        tunesmith run recipe.yaml --resume      # after a kill or Ctrl-C: same recipe, same output
    """
    from tunesmith.bundle import default_output
    from tunesmith.pipeline.run import run as run_line

    resolved = load_recipe(recipe, set_, time_limit)
    processes = processes_for(nproc, 1, 0, "127.0.0.1", 29500)
    run_line(resolved, output or default_output(resolved), overwrite, resume, processes, force)


@app.command()
def tune(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file, with a tune.space section.")],
    trials: Annotated[int | None, typer.Option(help="Trials to run (default tune.trials).")] = None,
    set_: SetOption = None,
    output: OutputOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in OUTPUT.")] = False,
    force: ForceOption = False,
) -> None:
    """Search hyperparameters with Optuna; the best trial becomes a normal run in OUTPUT.

    The study (trials, SQLite storage, history plot) lives in OUTPUT-tune; running the command
    again continues it.

    Examples:

        tunesmith tune recipe.yaml --trials 20

        tunesmith tune recipe.yaml --trials 5 --set training.epochs=1 -o runs/faq-tuned
    """
    from tunesmith.bundle import default_output
    from tunesmith.pipeline.tune import tune as tune_study

    resolved = load_recipe(recipe, set_)
    result = tune_study(resolved, output or default_output(resolved), trials, overwrite, force)
    shown = ", ".join(f"{k}={v}" for k, v in result.best_params.items())
    console.print(f"best values: {shown}")
    console.print(f"next: tunesmith serve {result.run_dir}")
