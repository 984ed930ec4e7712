"""Offline A/B: two models answer the same records; is B better, by how much, and how sure?

Each headline metric's difference B - A gets a paired bootstrap interval (the same resampled
records score both models, through the task's `subset_metrics`) and a two-sided bootstrap
p-value. Single-label classification takes accuracy's p-value from McNemar's exact test;
generation takes BLEU's and chrF's from sacrebleu's paired bootstrap test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.errors import TunesmithError
from tunesmith.metrics.uncertainty import (
    RESAMPLES,
    McNemar,
    SubsetMetric,
    bootstrap,
    higher_is_better,
    mcnemar,
)
from tunesmith.tasks.classification import label_indexes, label_metrics

SIGNIFICANCE = 0.05
MCNEMAR = "McNemar's exact test"
_HUNDRED_SCALE = frozenset({"bleu", "chrf"})  # already in points (0-100)
_OWN_UNITS = frozenset({"rmse", "mae"})  # in the label's units: no points


def in_points(metric: str, value: float) -> float | None:
    """A metric's value (or a difference of it) in points (0-100); None for a metric in the
    label's own units (RMSE, MAE), which has none."""
    name = metric.rsplit(".", 1)[-1]
    if name in _OWN_UNITS:
        return None
    return value if name in _HUNDRED_SCALE else 100 * value


@dataclass(frozen=True)
class Difference:
    metric: str
    a: float
    b: float
    low: float  # the interval of B - A
    high: float
    p_value: float

    @property
    def delta(self) -> float:
        return self.b - self.a

    def _shown(self, value: float) -> str:
        points = in_points(self.metric, value)
        return f"{value:+.4g}" if points is None else f"{points:+.1f}"

    def verdict(self) -> str:
        name = self.metric.rsplit(".", 1)[-1]
        unit = "" if name in _OWN_UNITS else " points"
        interval = f"95% CI {self._shown(self.low)} to {self._shown(self.high)}"
        shown = f"{self._shown(self.delta)}{unit} ({interval}), p {_p_text(self.p_value)}"
        if self.p_value < SIGNIFICANCE and self.delta != 0:
            winner = "B" if (self.delta > 0) == higher_is_better(self.metric) else "A"
            return f"{winner} is better on {self.metric}, {shown}"
        return f"no significant difference on {self.metric}: {shown}"


def paired_bootstrap(
    metric_a: SubsetMetric, metric_b: SubsetMetric, count: int, n_resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float, float]:
    """(low, high, p) of metric_b - metric_a over the same record positions resampled."""
    result = bootstrap(
        lambda rows: metric_b(rows) - metric_a(rows), np.arange(count), n_resamples=n_resamples, seed=seed
    )
    deltas = result.bootstrap_distribution
    # two-sided: how often the resampled difference lands on the other side of zero; never
    # below one resample's share (0 would claim more certainty than n_resamples can show)
    p = min(1.0, 2 * min(float(np.mean(deltas <= 0)), float(np.mean(deltas >= 0))))
    interval = result.confidence_interval
    return float(interval.low), float(interval.high), max(p, 1 / n_resamples)


def format_p(p: float) -> str:
    """'0.0312'; '< 0.001' for a bootstrap p at its resolution (an exact test shows its value)."""
    return f"< {1 / RESAMPLES:g}" if math.isclose(p, 1 / RESAMPLES) else f"{p:.3g}"


def _p_text(p: float) -> str:
    shown = format_p(p)
    return shown if shown.startswith("<") else f"= {shown}"


@dataclass(frozen=True)
class Comparison:
    count: int
    differences: list[Difference]
    mcnemar: McNemar | None = None  # single-label classification only
    tests: dict[str, str] = field(default_factory=dict)  # metric -> the test its p-value is from


def compare_metrics(
    metrics_a: dict[str, SubsetMetric],
    metrics_b: dict[str, SubsetMetric],
    count: int,
    exact: dict[str, tuple[float, str]] | None = None,
) -> list[Difference]:
    """B - A for every metric both report; `exact` {metric: (p, test)} replaces a bootstrap p."""
    everything = np.arange(count)
    differences = []
    for name, metric_a in metrics_a.items():
        if name not in metrics_b:
            continue
        low, high, p = paired_bootstrap(metric_a, metrics_b[name], count)
        if exact and name in exact:
            p = exact[name][0]
        differences.append(Difference(name, metric_a(everything), metrics_b[name](everything), low, high, p))
    return differences


def compare_labels(truth: Sequence[int], a: Sequence[int], b: Sequence[int], n_labels: int) -> Comparison:
    """Accuracy and macro-F1 of B against A on the same records (label indexes); accuracy's
    p-value is McNemar's exact test, the sharper test of an accuracy difference."""
    t, pa, pb = np.asarray(truth), np.asarray(a), np.asarray(b)
    exact = mcnemar(pa == t, pb == t)
    differences = compare_metrics(
        label_metrics(t, pa, n_labels),
        label_metrics(t, pb, n_labels),
        len(t),
        {"accuracy": (exact.p_value, MCNEMAR)},
    )
    return Comparison(len(t), differences, exact, {"accuracy": MCNEMAR})


def _exact_tests(
    predictor: Any,
    data: list[dict[str, Any]],
    answers_a: list[dict[str, Any]],
    answers_b: list[dict[str, Any]],
) -> tuple[dict[str, tuple[float, str]], McNemar | None]:
    """The task-specific tests that replace bootstrap p-values: McNemar for one label per record,
    sacrebleu's paired bootstrap for generated text."""
    task = predictor.task
    if task.weighs_classes:
        truth, answered_a = label_indexes(data, answers_a, predictor.labels)
        _, answered_b = label_indexes(data, answers_b, predictor.labels)
        exact = mcnemar(answered_a == truth, answered_b == truth)
        return {"accuracy": (exact.p_value, MCNEMAR)}, exact
    if task.label_is_text and answers_a and "text" in answers_a[0]:
        from tunesmith.tasks.generation import sacrebleu_paired_p

        p_values = sacrebleu_paired_p(
            [r["label"] for r in data], [a["text"] for a in answers_a], [b["text"] for b in answers_b]
        )
        return {name: (p, "sacrebleu paired bootstrap") for name, p in p_values.items()}, None
    return {}, None


def compare_runs(
    run_a: Path, run_b: Path, records: list[dict[str, Any]] | None = None, backend: str = "torch"
) -> Comparison:
    """Both runs' models on `records` (raw {"text", "label"} records from a user, cleaned and
    de-identified like training data), or by default on A's own prepared test split."""
    from tunesmith.prepare.stage import read_split
    from tunesmith.runtime.predict import Predictor

    model_a, model_b = Predictor.from_run(run_a, backend=backend), Predictor.from_run(run_b, backend=backend)
    task = model_a.task
    if model_b.task.type != task.type:
        raise TunesmithError(f"{run_a} is {task.type} and {run_b} is {model_b.task.type}: nothing to compare")
    if model_a.labels != model_b.labels:
        raise TunesmithError(
            f"{run_a} and {run_b} have different label sets; they answer different questions"
        )
    if records is not None:
        records = _parse_labels(task, records, model_a.labels)
    data = records if records is not None else read_split(run_a, "test")
    if not data:
        raise TunesmithError(f"{run_a}: no test records to compare on; pass --data FILE.jsonl")
    examples = [{k: r[k] for k in task.inputs if r.get(k) is not None} for r in data]
    answers = []
    for predictor in (model_a, model_b):
        answer = predictor.predict_raw if records is not None else predictor.predict
        answers.append(answer(examples, show=True))
    answers_a, answers_b = answers
    metrics_a = task.subset_metrics(data, answers_a, model_a.labels)
    if not metrics_a:
        raise TunesmithError(f"compare needs per-record metrics, and {task.type} has none")
    metrics_b = model_b.task.subset_metrics(data, answers_b, model_b.labels)
    exact, paired_exact = _exact_tests(model_a, data, answers_a, answers_b)
    differences = compare_metrics(metrics_a, metrics_b, len(data), exact)
    return Comparison(len(data), differences, paired_exact, {name: test for name, (_, test) in exact.items()})


def _parse_labels(task: Any, records: list[dict[str, Any]], labels: list[str]) -> list[dict[str, Any]]:
    """A user's records with labels read the way the task reads them; unknown labels refused."""
    if task.annotated:
        raise TunesmithError(
            f"--data with {task.type}: the labels live inside the text; compare on a prepared test "
            "split instead (prepare the file with the run's recipe)"
        )
    parsed = []
    for number, record in enumerate(records, start=1):
        try:
            parsed.append({**record, "label": task.parse_label(record["label"])})
        except ValueError as error:
            raise TunesmithError(f"--data record {number}: field 'label': {error}") from None
    if task.weighs_classes:
        unknown = sorted({str(r["label"]) for r in parsed} - set(labels))
        if unknown:
            raise TunesmithError(f"labels not known to the models: {', '.join(unknown[:5])}")
    return parsed
