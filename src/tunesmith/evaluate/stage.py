"""The evaluate stage: the trained model on validation and test -> `metrics.json` and plots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from tunesmith import atomic
from tunesmith.bundle import read_json_if_present
from tunesmith.console import console
from tunesmith.errors import GatesFailed
from tunesmith.evaluate.errors import error_analysis
from tunesmith.evaluate.expectations import check_expectations
from tunesmith.evaluate.exports import gate_figures
from tunesmith.evaluate.gates import GATES_FILE, GateResult, check_gates, read_gates
from tunesmith.evaluate.gates import summary as gates_summary
from tunesmith.evaluate.leaderboard import learner_figures, print_leaderboard, remember_transformer
from tunesmith.evaluate.report import with_interval, write_report
from tunesmith.evaluate.robustness import KEEPS_POSITIONS, plot_robustness, robustness_report
from tunesmith.evaluate.slices import plot_slices, shown_metric, slice_metrics
from tunesmith.evaluate.trivial import GATE as TRIVIAL_GATE
from tunesmith.evaluate.trivial import GATE_CONDITION, describe, trivial_baseline
from tunesmith.evaluate.untrained import describe_untrained, plot_untrained, untrained_baseline
from tunesmith.learners.ensemble import LEARNERS_FILE
from tunesmith.metrics.uncertainty import SubsetMetric, bootstrap_ci, higher_is_better, subset_intervals
from tunesmith.prepare.stage import read_split
from tunesmith.runtime.predict import Predictor
from tunesmith.tasks.classification import label_indexes

METRICS_FILE = "metrics.json"


def evaluate(run_dir: Path, backend: str = "torch", defer_export_gates: bool = False) -> dict[str, Any]:
    """Score the run's model on the recipe's evaluation splits; write `metrics.json`. `backend`:
    the trained PyTorch model, or an export (what will be shipped). `defer_export_gates`: gates on
    export figures wait for the export stage (`run` with an `export:` section)."""
    predictor = Predictor.from_run(run_dir, verify=backend != "torch", backend=backend)
    recipe = predictor.recipe
    results: dict[str, Any] = {}
    board = read_json_if_present(run_dir / "train_summary.json").get("leaderboard", [])
    states = read_json_if_present(run_dir / "model" / LEARNERS_FILE).get("states", {})
    remember_transformer(predictor)
    prepared = read_json_if_present(run_dir / "data" / "report.json")
    overlaps = prepared.get("duplicates", {}).get("test_overlaps")
    train = read_split(run_dir, "train")
    train_labels = [r["label"] for r in train]
    for split in recipe.evaluation.splits:
        records = read_split(run_dir, split)
        if not records:
            console.print(f"[yellow]warning:[/] the {split} split is empty; not evaluated")
            continue
        answers = predictor.predict(records, recipe.evaluation.batch_size, show=True)
        results[split] = predictor.task.evaluate(records, answers, predictor.labels, run_dir, split)
        results[split]["backend"] = predictor.backend
        scorers = predictor.task.subset_metrics(records, answers, predictor.labels)
        if scorers:
            results[split]["confidence_intervals"] = subset_intervals(scorers, len(records))
        if split == "test" and overlaps and scorers:
            results[split]["without_overlaps"] = _without(overlaps, scorers, len(records))
        trivial = trivial_baseline(predictor.task, train_labels, records, predictor.labels, scorers)
        if trivial is not None:
            results[split]["trivial_baseline"] = trivial
        if predictor.task.weighs_classes:
            results[split]["errors"] = error_analysis(records, answers)
        if len(board) > 1:
            results[split]["leaderboard"] = learner_figures(
                predictor, board, records, answers, states, run_dir, split
            )
        if recipe.evaluation.slices:
            results[split].update(_slices(predictor, records, answers, scorers, run_dir, split))
        if split == "test" and recipe.evaluation.robustness and scorers:
            results[split]["robustness"] = _robustness(predictor, records, answers, scorers, run_dir)
        if split == "test" and recipe.evaluation.expectations and predictor.task.weighs_classes:
            results[split]["expectations"] = _expectations(predictor, records, answers)
        if split == "test" and scorers and hasattr(predictor.task, "generation_batch"):
            untrained = untrained_baseline(run_dir, predictor, records, answers, train)
            if untrained is not None:
                results[split]["untrained"] = untrained
                plot_untrained(untrained, run_dir / "untrained_test.png")
    atomic.write_json(run_dir / METRICS_FILE, results)
    if "leaderboard" in results.get("test", {}):
        _leaderboard_with_test(run_dir, results["test"]["leaderboard"])
    _print_table(results, predictor.task.headline, predictor.backend)
    if "leaderboard" in results.get("test", {}):
        print_leaderboard(results["test"]["leaderboard"], board, "test")
    for split, metrics in results.items():
        if metrics.get("advice"):
            console.print(f"[yellow]note ({split}):[/] {metrics['advice']}")
    if "without_overlaps" in results.get("test", {}):
        console.print(f"test: {describe_overlaps(results['test'])}", highlight=False)
    if "trivial_baseline" in results.get("test", {}):
        found = results["test"]["trivial_baseline"]
        console.print(
            ("" if found["gain_low"] > 0 else "[bold red]") + f"test: {describe(found)}", highlight=False
        )
    if "untrained" in results.get("test", {}):
        console.print(f"test: {describe_untrained(results['test']['untrained'])}", highlight=False)
    judge_gates(run_dir, recipe, results, defer_export_gates)
    console.print(f"report: {write_report(run_dir)}")
    return results


def _leaderboard_with_test(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    """train_summary.json's leaderboard gains each learner's test figures, so one file lists every
    learner with both (training never reads the test split; evaluation adds them)."""
    path = run_dir / "train_summary.json"
    summary = read_json_if_present(path)
    tested = {
        row["learner"]: {k: v for k, v in row.items() if k not in ("learner", "served")} for row in rows
    }
    for entry in summary.get("leaderboard", []):
        if entry["learner"] in tested:
            entry["test"] = tested[entry["learner"]]
    atomic.write_json(path, summary)


def _without(overlaps: dict[str, Any], scorers: dict[str, SubsetMetric], count: int) -> dict[str, Any]:
    """The headline metrics of a named test set without its records that repeat training records
    or each other (kept in the whole-set figure), with intervals; why each was left out."""
    left_out = set(overlaps["positions"])
    rows = np.asarray([i for i in range(count) if i not in left_out], dtype=np.int64)
    reasons = Counter(reason.split(":")[0] for reason in overlaps["reasons"])
    found: dict[str, Any] = {"count": len(rows), "left_out": len(left_out), "reasons": dict(reasons)}
    if len(rows):
        found.update({name: float(metric(rows)) for name, metric in scorers.items()})
        found["confidence_intervals"] = {
            name: bootstrap_ci(metric, rows, seed=0) for name, metric in scorers.items()
        }
    return found


def describe_overlaps(test: dict[str, Any]) -> str:
    """'the named test set, 142 records, scored whole: accuracy 0.70; without the 21 that repeat
    training records or each other (leakage 15, duplicate 6): accuracy 0.72 (121 records)'."""
    without = test["without_overlaps"]
    metric = next((m for m in test.get("confidence_intervals", {}) if m in without), None)
    reasons = ", ".join(f"{k} {v}" for k, v in without["reasons"].items())
    whole = f"the named test set, {test.get('count', 0):,} records, scored whole"
    if metric is None:
        return f"{whole}; {without['left_out']} repeat training records or each other ({reasons})"
    return (
        f"{whole}: {metric} {test[metric]:.4f}; without the {without['left_out']:,} that repeat training "
        f"records or each other ({reasons}): {metric} {without[metric]:.4f} ({without['count']:,} records)"
    )


def judge_gates(run_dir: Path, recipe: Any, results: dict[str, Any], defer_exports: bool = False) -> None:
    """Check the recipe's gates (and the default trivial-baseline gate) against the metrics and
    the exports' parity figures; write gates.json and print the failures."""
    gates = dict(recipe.gates)
    if recipe.evaluation.baseline_gate and "trivial_baseline" in results.get("test", {}):
        gates.setdefault(TRIVIAL_GATE, GATE_CONDITION)
    if defer_exports:
        gates = {name: condition for name, condition in gates.items() if not name.startswith("export.")}
    if gates:
        gate_results = check_gates(gates, {**results, "export": gate_figures(run_dir)})
        atomic.write_json(run_dir / GATES_FILE, gates_summary(gate_results))
        _print_gates(gate_results)


def _served(predictor: Predictor) -> Any:
    """Answers for changed test texts through the served path: each request is cleaned and
    de-identified first, as in `serve`."""
    return lambda changed: predictor.predict_raw(
        [{k: r[k] for k in ("text", "text_pair") if k in r} for r in changed],
        predictor.recipe.evaluation.batch_size,
    )


def _expectations(
    predictor: Predictor, records: list[dict[str, Any]], answers: list[dict[str, Any]]
) -> dict[str, Any]:
    found = check_expectations(
        records, answers, _served(predictor), predictor.recipe.evaluation.expectations, predictor.labels
    )
    for name, check in found["checks"].items():
        console.print(f"expectation {name}: {check['failures']:,} of {check['tested']:,} fail")
    return found


def _robustness(
    predictor: Predictor,
    records: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    scorers: dict[str, SubsetMetric],
    run_dir: Path,
) -> dict[str, Any]:
    recipe, task, labels = predictor.recipe, predictor.task, predictor.labels
    names = recipe.evaluation.robustness
    if task.annotated:  # the labels are spans of the text: a rewrite that moves characters breaks them
        skipped = [n for n in names if n not in KEEPS_POSITIONS]
        names = [n for n in names if n in KEEPS_POSITIONS]
        if skipped:
            console.print(
                f"[yellow]note:[/] robustness skips {', '.join(skipped)} for {task.type}: they move "
                f"the labelled spans ({', '.join(sorted(KEEPS_POSITIONS))} keep them)"
            )
    metric = next(iter(scorers))  # the task's lead metric
    everything = np.arange(len(records))

    def score(found: Sequence[dict[str, Any]]) -> float:
        return task.subset_metrics(records, found, labels)[metric](everything)

    found = robustness_report(records, answers, _served(predictor), names, recipe.seed, score, metric)
    plot_robustness(found, run_dir / "robustness_test.png")
    changed = [v[metric] for k, v in found["suites"].items() if k != "clean"]
    worst = (min if higher_is_better(metric) else max)(changed, default=float("nan"))
    clean = found["suites"]["clean"][metric]
    line = f"robustness over {len(changed)} perturbations: {metric} {clean:.4f} clean, worst {worst:.4f}"
    if "flip_rate" in found:
        line += f"; worst flip rate {found['flip_rate']:.1%}"
    console.print(line)
    return found


def _slices(
    predictor: Predictor,
    records: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    scorers: dict[str, SubsetMetric],
    run_dir: Path,
    split: str,
) -> dict[str, Any]:
    recipe = predictor.recipe
    if not scorers:
        console.print(f"[yellow]note:[/] {predictor.task.type} has no per-record metrics to slice")
        return {}
    labelled = None
    if predictor.task.weighs_classes:  # one label per record: fairness differences apply too
        labelled = (*label_indexes(records, answers, predictor.labels), len(predictor.labels))
    found = slice_metrics(records, scorers, recipe.evaluation.slices, recipe.evaluation.min_slice, labelled)
    plot_slices(found["slices"], run_dir / f"slices_{split}.png", split)
    for name, report in found["slices"].items():
        metric = shown_metric(report)
        gap = report[f"gap_{metric}"]
        if gap == gap:
            worst = report.get(f"worst_slice_{metric}")
            console.print(f"{split} slices by {name}: {metric} gap {gap:.3f} (worst: {worst})")
    return found


def _print_gates(results: list[GateResult]) -> None:
    failed = [r for r in results if not r.passed]
    if not failed:
        console.print(f"[green]release gates: all {len(results)} passed[/]")
        return
    table = Table(title=f"release gates failed: {len(failed)} of {len(results)}")
    for column in ("metric", "required", "value"):
        table.add_column(column)
    for r in failed:
        table.add_row(r.metric, r.condition, "not reported" if r.value is None else f"{r.value:.4f}")
    console.print(table)


def raise_if_not_releasable(run_dir: Path) -> None:
    """After bundling: exit code 3 (GatesFailed) when the run missed a gate."""
    recorded = read_gates(run_dir)
    if recorded and not recorded["releasable"]:
        missed = ", ".join(
            f"{name} {g['condition']}" for name, g in recorded["gates"].items() if not g["passed"]
        )
        raise GatesFailed(f"{run_dir} is complete but not releasable: it misses {missed}")


def _print_table(results: dict[str, Any], headline: tuple[str, ...], backend: str) -> None:
    exported = backend not in ("torch", "native")  # what the model answers with itself, or an export
    table = Table(title=f"metrics ({backend} export)" if exported else "metrics")
    table.add_column("split")
    table.add_column("n", justify="right")
    for name in headline:
        table.add_column(name, justify="right")
    for split, metrics in results.items():
        table.add_row(
            split,
            str(metrics.get("count", "")),
            *(with_interval(metrics, name) for name in headline),
        )
        baseline = metrics.get("baseline")
        if baseline:
            table.add_row(
                f"{split} (baseline)",
                str(metrics.get("count", "")),
                *(f"{baseline[name]:.4f}" if name in baseline else "-" for name in headline),
            )
    console.print(table)
