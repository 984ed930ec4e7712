"""`tunesmith runs` and `reproduce`: the runs on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.options import (
    RunDir,
)

app = typer.Typer()


runs_app = typer.Typer(
    help="Runs side by side: `tunesmith runs` lists them, `runs compare A B` diffs two.",
    invoke_without_command=True,
)


app.add_typer(runs_app, name="runs")


@runs_app.callback()
def runs_list(
    ctx: typer.Context,
    root: Annotated[Path, typer.Option("--root", help="Folder that holds the run folders.")] = Path("runs"),
) -> None:
    """List the runs under --root (default runs/) with their key test metrics, oldest first.

    Examples:

        tunesmith runs

        tunesmith runs --root experiments/

        tunesmith runs compare runs/faq-1ep runs/faq-3ep
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from tunesmith.runs.listing import KEY_METRICS, find_runs

    if not root.is_dir():
        raise TunesmithError(f"{root}: no such folder; pass --root with the folder that holds your runs")
    found = find_runs(root)
    if not found:
        console.print(f"no runs under {root}")
        return
    shown = [m for m in KEY_METRICS if any(m in info.metrics for info in found)][:4]
    table = Table(title=f"runs under {root}")
    for column in ("run", "status", "task", "model", "created", *shown, "train s"):
        table.add_column(column, overflow="fold")
    for info in found:
        table.add_row(
            str(info.path),
            info.status,
            info.task,
            Path(info.model).name,  # a local model folder shows as its name
            info.created[:16].replace("T", " "),
            *(f"{info.metrics[m]:.4f}" if m in info.metrics else "" for m in shown),
            f"{info.train_seconds:.0f}" if info.train_seconds else "",
        )
    console.print(table)


@runs_app.command("compare")
def runs_compare(
    a: Annotated[Path, typer.Argument(help="The first (baseline) run folder.")],
    b: Annotated[Path, typer.Argument(help="The second run folder.")],
) -> None:
    """What the two recipes set differently, and every metric both report with B - A.

    Example:

        tunesmith runs compare runs/faq-1ep runs/faq-3ep
    """
    from rich.table import Table

    from tunesmith.runs.compare import metric_deltas, recipe_diff

    for folder in (a, b):
        if not (folder / "recipe.yaml").is_file():
            raise TunesmithError(f"{folder}: not a run folder (no recipe.yaml)")
    diff = recipe_diff(a, b)
    recipe_table = Table(title="recipe differences")
    for column in ("key", str(a), str(b)):
        recipe_table.add_column(column, overflow="fold")
    for key, left, right in diff:
        recipe_table.add_row(key, str(left), str(right))
    console.print(recipe_table if diff else "the recipes are the same")
    deltas = metric_deltas(a, b)
    if not deltas:
        console.print("no metric reported by both runs (evaluate them first: tunesmith evaluate RUN)")
        return
    metric_table = Table(title="metrics (B - A)")
    for column in ("split", "metric", "A", "B", "B - A"):
        metric_table.add_column(column)
    for d in deltas:
        colour = "green" if d.delta > 0 else "red" if d.delta < 0 else ""
        change = f"{d.delta:+.4f}"
        metric_table.add_row(
            d.split, d.metric, f"{d.a:.4f}", f"{d.b:.4f}", f"[{colour}]{change}[/]" if colour else change
        )
    console.print(metric_table)


@app.command()
def reproduce(
    run_dir: RunDir,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to re-run (default RUN_DIR-reproduced).")
    ] = None,
    tolerance: Annotated[float, typer.Option(help="Largest metric difference that still matches.")] = 1e-6,
) -> None:
    """Re-run RUN_DIR from its own recipe and report whether data, recipe and metrics match;
    exit 1 when they do not.

    Example:

        tunesmith reproduce runs/faq
    """
    from rich.table import Table

    from tunesmith.runs.reproduce import as_json
    from tunesmith.runs.reproduce import reproduce as reproduce_run

    target = output or run_dir.with_name(f"{run_dir.name}-reproduced")
    result = reproduce_run(run_dir, target, tolerance)
    atomic.write_json(target / "reproduction.json", as_json(result))
    console.print(f"data fingerprint: {'same' if result.same_data else '[red]different[/]'}")
    console.print(f"recipe hash: {'same' if result.same_recipe else '[red]different[/]'}")
    for name, (before, now) in result.changed_libraries.items():
        console.print(f"[yellow]library changed:[/] {name} {before} -> {now}")
    if result.differing:
        table = Table(title=f"metrics that differ by more than {tolerance:g}")
        for column in ("split", "metric", "original", "rerun"):
            table.add_column(column)
        for d in result.differing:
            table.add_row(d.split, d.metric, f"{d.a:.6f}", f"{d.b:.6f}")
        console.print(table)
    if result.matches:
        console.print(
            f"[bold green]reproduced:[/] {len(result.deltas)} metrics match within {tolerance:g} ({target})"
        )
        return
    console.print(f"[bold red]not reproduced[/] ({target}/reproduction.json)")
    raise typer.Exit(1)
