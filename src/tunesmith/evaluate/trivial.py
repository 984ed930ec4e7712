"""The trivial baseline beside every model: what answering without learning scores - the largest
class, the label prior, the training mean, the input copied (each task says which) - and how
clearly the model beats it: the paired bootstrap interval of its gain on the task's lead metric.

A run whose model does not beat it clearly (the interval's lower end at or below zero) fails the
default release gate `trivial_baseline.gain_low > 0` (`evaluation.baseline_gate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tunesmith.evaluate.compare import paired_bootstrap
from tunesmith.metrics.uncertainty import SubsetMetric, higher_is_better
from tunesmith.tasks import Task

GATE = "trivial_baseline.gain_low"
GATE_CONDITION = "> 0"


def lead_metric(task: Task, scorers: dict[str, SubsetMetric]) -> str:
    """The metric a model is judged by: the one that picks its best checkpoint, when the task can
    compute it per record subset; else the task's first."""
    return task.best_metric if task.best_metric in scorers else next(iter(scorers))


def trivial_baseline(
    task: Task,
    train_labels: Sequence[Any],
    records: Sequence[dict[str, Any]],
    labels: list[str],
    scorers: dict[str, SubsetMetric],
) -> dict[str, Any] | None:
    """The trivial answers' metrics and the model's gain over them (positive: the model is better,
    whichever way the metric points), with its 95% paired bootstrap interval."""
    if not scorers or not records:
        return None
    found = task.trivial_answers(train_labels, records, labels)
    if found is None:
        return None
    name, answers = found
    return gain_over(task, records, answers, labels, scorers, name)


def gain_over(
    task: Task,
    records: Sequence[dict[str, Any]],
    their_answers: Sequence[dict[str, Any]],
    labels: list[str],
    scorers: dict[str, SubsetMetric],
    name: str,
) -> dict[str, Any]:
    """Other answers to the same records (`name` says whose), their metrics, and the model's gain
    over them on the lead metric with its 95% paired bootstrap interval; `scorers` are the
    model's own on these records."""
    theirs = task.subset_metrics(records, their_answers, labels)
    metric = lead_metric(task, scorers)
    everything = np.arange(len(records))
    low, high, p = paired_bootstrap(theirs[metric], scorers[metric], len(records))
    sign = 1.0 if higher_is_better(metric) else -1.0
    gain_low, gain_high = sorted((sign * low, sign * high))
    return {
        "answer": name,
        "metrics": {key: scorer(everything) for key, scorer in theirs.items()},
        "metric": metric,
        "gain": sign * (scorers[metric](everything) - theirs[metric](everything)),
        "gain_low": gain_low,
        "gain_high": gain_high,
        "p_value": p,
    }


def describe(found: dict[str, Any]) -> str:
    """One line for the console and the report."""
    metric = found["metric"]
    clearly = found["gain_low"] > 0
    verdict = "beats it clearly" if clearly else "does NOT clearly beat it"
    return (
        f"trivial baseline ({found['answer']}): {metric} {found['metrics'][metric]:.4f}; the model "
        f"{verdict}: gain {found['gain']:+.4f} (95% CI {found['gain_low']:+.4f} to {found['gain_high']:+.4f})"
    )
