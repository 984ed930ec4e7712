"""Offline A/B: two models answer the same records; is B better, by how much, and how sure?

Each metric's difference B - A gets a paired bootstrap interval (the same resampled records
score both models) and a two-sided bootstrap p-value; accuracy also gets McNemar's exact test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.errors import TunesmithError
from tunesmith.evaluate.uncertainty import RESAMPLES, McNemar, bootstrap, mcnemar
from tunesmith.tasks.classification import macro_f1

SIGNIFICANCE = 0.05


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

    def verdict(self) -> str:
        interval = f"95% CI {100 * self.low:+.1f} to {100 * self.high:+.1f}"
        shown = f"{100 * self.delta:+.1f} points ({interval}), p {_p_text(self.p_value)}"
        if self.p_value < SIGNIFICANCE and self.delta > 0:
            return f"B is better on {self.metric}, {shown}"
        if self.p_value < SIGNIFICANCE and self.delta < 0:
            return f"A is better on {self.metric}, {shown}"
        return f"no significant difference on {self.metric}: {shown}"


def paired_bootstrap(
    metric: Callable[[np.ndarray, np.ndarray], float],
    truth: Sequence[int],
    a: Sequence[int],
    b: Sequence[int],
    n_resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(low, high, p) of metric(B) - metric(A) over records resampled with replacement."""
    result = bootstrap(
        lambda t, x, y: metric(t, y) - metric(t, x), truth, a, b, n_resamples=n_resamples, seed=seed
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
    mcnemar: McNemar


def compare_labels(truth: Sequence[int], a: Sequence[int], b: Sequence[int], n_labels: int) -> Comparison:
    """Accuracy and macro-F1 of B against A on the same records (label indexes)."""
    t, pa, pb = np.asarray(truth), np.asarray(a), np.asarray(b)
    metrics: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "accuracy": lambda x, y: float(np.mean(x == y)),
        "macro_f1": lambda x, y: macro_f1(x, y, n_labels),
    }
    exact = mcnemar(pa == t, pb == t)
    differences = []
    for name, metric in metrics.items():
        low, high, p = paired_bootstrap(metric, t, pa, pb)
        if name == "accuracy":
            p = exact.p_value  # McNemar's exact test is the sharper test of an accuracy difference
        differences.append(Difference(name, metric(t, pa), metric(t, pb), low, high, p))
    return Comparison(len(t), differences, exact)


def compare_runs(run_a: Path, run_b: Path, records: list[dict[str, Any]] | None = None) -> Comparison:
    """Both runs' models on `records` (raw {"text", "label"} records from a user, cleaned and
    de-identified like training data), or by default on A's own prepared test split."""
    from tunesmith.data.prepare import read_split
    from tunesmith.predict import Predictor

    model_a, model_b = Predictor.from_run(run_a), Predictor.from_run(run_b)
    for predictor, run in ((model_a, run_a), (model_b, run_b)):
        if not predictor.task.weighs_classes:
            raise TunesmithError(
                f"{run}: compare handles single-label classification (classification, tabular) so far, "
                f"not {predictor.task.type}"
            )
    if model_a.labels != model_b.labels:
        raise TunesmithError(
            f"{run_a} and {run_b} have different label sets; they answer different questions"
        )
    data = records if records is not None else read_split(run_a, "test")
    if not data:
        raise TunesmithError(f"{run_a}: no test records to compare on; pass --data FILE.jsonl")
    index = {label: i for i, label in enumerate(model_a.labels)}
    unknown = sorted({str(r["label"]) for r in data} - set(index))
    if unknown:
        raise TunesmithError(f"labels not known to the models: {', '.join(unknown[:5])}")
    truth = [index[str(r["label"])] for r in data]
    examples = [{k: r[k] for k in ("text", "text_pair") if r.get(k) is not None} for r in data]
    answers = []
    for predictor in (model_a, model_b):
        answer = predictor.predict_raw if records is not None else predictor.predict
        answers.append([index[x["label"]] for x in answer(examples, show=True)])
    answers_a, answers_b = answers
    return compare_labels(truth, answers_a, answers_b, len(index))
