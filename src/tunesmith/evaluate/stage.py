"""The evaluate stage: the trained model on validation and test -> `metrics.json` and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.data.prepare import read_split
from tunesmith.predict import Predictor

METRICS_FILE = "metrics.json"


def evaluate(run_dir: Path) -> dict[str, Any]:
    """Score `run_dir/model` on the recipe's evaluation splits; write `metrics.json`."""
    predictor = Predictor.from_run(run_dir, verify=False)
    recipe = predictor.recipe
    results: dict[str, Any] = {}
    for split in recipe.evaluation.splits:
        records = read_split(run_dir, split)
        if not records:
            console.print(f"[yellow]warning:[/] the {split} split is empty; not evaluated")
            continue
        answers = predictor.predict(records, recipe.evaluation.batch_size, show=True)
        results[split] = predictor.task.evaluate(records, answers, predictor.labels, run_dir, split)
    atomic.write_json(run_dir / METRICS_FILE, results)
    _print_table(results, predictor.task.headline)
    for split, metrics in results.items():
        if metrics.get("advice"):
            console.print(f"[yellow]note ({split}):[/] {metrics['advice']}")
    return results


def _print_table(results: dict[str, Any], headline: tuple[str, ...]) -> None:
    table = Table(title="metrics")
    table.add_column("split")
    table.add_column("n", justify="right")
    for name in headline:
        table.add_column(name, justify="right")
    for split, metrics in results.items():
        table.add_row(
            split,
            str(metrics.get("count", "")),
            *(_with_interval(metrics, name) for name in headline),
        )
        baseline = metrics.get("baseline")
        if baseline:
            table.add_row(
                f"{split} (baseline)",
                str(metrics.get("count", "")),
                *(f"{baseline[name]:.4f}" if name in baseline else "-" for name in headline),
            )
    console.print(table)


def _with_interval(metrics: dict[str, Any], name: str) -> str:
    """'0.8567 [0.817, 0.893]': the value and its 95% bootstrap interval where there is one."""
    if name not in metrics:
        return "-"
    low, high = metrics.get("confidence_intervals", {}).get(name, (None, None))
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and low == low else ""
    return f"{metrics[name]:.4f}{interval}"
