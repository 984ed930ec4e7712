"""How sure a metric is: bootstrap confidence intervals, McNemar's test, calibration error.

Bootstrap intervals come from scipy (`scipy.stats.bootstrap`, percentile method, the records
resampled together), McNemar's exact test from scipy's binomial test. Expected calibration error
is written here: none of the libraries this project uses computes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.metrics.plots import pyplot, save_figure

LEVEL = 0.95
RESAMPLES = 1000

# A metric of the records at the given positions (repeats allowed): what a task hands out so that
# intervals, slices and `compare` can resample records without knowing the task.
SubsetMetric = Callable[[np.ndarray], float]

_LOWER_IS_BETTER = frozenset({"rmse", "mae", "ece", "hamming_loss", "loss"})


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of the named metric is better (`head.rmse`: by its last part)."""
    return metric.rsplit(".", 1)[-1] not in _LOWER_IS_BETTER


def bootstrap(
    statistic: Callable[..., float],
    *columns: Sequence[object],
    n_resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> Any:
    """scipy's percentile bootstrap of `statistic(*columns)`, resampling whole rows (the columns
    stay paired: truth with prediction); its `confidence_interval` and `bootstrap_distribution`."""
    from scipy.stats import bootstrap as scipy_bootstrap

    return scipy_bootstrap(
        tuple(np.asarray(c) for c in columns),
        statistic,
        paired=True,
        vectorized=False,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )


def bootstrap_ci(
    statistic: Callable[..., float],
    *columns: Sequence[object],
    n_resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """The `level` bootstrap interval of `statistic(*columns)`; (nan, nan) under 2 rows."""
    if len(columns[0]) < 2:
        return float("nan"), float("nan")
    interval = bootstrap(
        statistic, *columns, n_resamples=n_resamples, level=level, seed=seed
    ).confidence_interval
    return float(interval.low), float(interval.high)


def subset_intervals(
    metrics: dict[str, SubsetMetric], count: int, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """The 95% bootstrap interval of each metric over `count` records (positions resampled)."""
    rows = np.arange(count)
    return {name: bootstrap_ci(metric, rows, seed=seed) for name, metric in metrics.items()}


def mean_over(values: Sequence[float]) -> SubsetMetric:
    """The mean of a per-record score (exact match, ROUGE-L, a right/wrong flag) over a subset."""
    column = np.asarray(values, dtype=np.float64)
    return lambda rows: float(column[rows].mean()) if len(rows) else float("nan")


def micro_f1_over(
    hits: Sequence[int], predicted: Sequence[int], true: Sequence[int]
) -> dict[str, SubsetMetric]:
    """Micro precision, recall and F1 from per-record counts (correct, predicted and true items:
    entities, labels), summed over a subset."""
    h, p, t = (np.asarray(c, dtype=np.float64) for c in (hits, predicted, true))

    def ratio(top: np.ndarray, bottom: np.ndarray) -> SubsetMetric:
        return lambda rows: float(top[rows].sum() / bottom[rows].sum()) if bottom[rows].sum() else 0.0

    return {"f1": ratio(2 * h, p + t), "precision": ratio(h, p), "recall": ratio(h, t)}


@dataclass(frozen=True)
class McNemar:
    only_a_right: int  # records A gets right and B wrong
    only_b_right: int
    p_value: float


def mcnemar(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> McNemar:
    """McNemar's exact test on paired right/wrong outcomes: are the discordant records split
    evenly between the two models? (Two-sided binomial test on the discordant counts.)"""
    from scipy.stats import binomtest

    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    discordant = only_a + only_b
    p = 1.0 if discordant == 0 else float(binomtest(only_a, discordant, 0.5).pvalue)
    return McNemar(only_a, only_b, p)


def fit_temperature(logits: np.ndarray, truth: Sequence[int]) -> float:
    """Temperature scaling (Guo et al., 2017): the T > 0 that minimises the negative log-likelihood
    of softmax(logits / T) on held-out records. Dividing by T keeps every answer and only changes
    how sure it claims to be. 1.0 when there is nothing to fit on: under 2 records, a validation set
    the model gets all right (it only ever asks for sharper probabilities), or an optimum at a bound."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    z, y = np.asarray(logits, dtype=np.float64), np.asarray(truth)
    known = (y >= 0) & (y < z.shape[1]) if z.ndim == 2 else np.zeros(0, dtype=bool)
    if known.sum() < 2:
        return 1.0
    z, y = z[known], y[known]
    if (z.argmax(axis=1) == y).all():
        return 1.0  # no mistakes to learn from: sharper would always look better

    def nll(log_t: float) -> float:
        return float(-log_softmax(z / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean())

    low, high = np.log(0.05), np.log(20.0)
    found = minimize_scalar(nll, bounds=(low, high), method="bounded")
    if min(found.x - low, high - found.x) < 1e-2:
        return 1.0
    return float(np.exp(found.x))


def calibration_bins(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 15
) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per equal-width confidence bin that holds records."""
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    return [
        (float(conf[which == b].mean()), float(right[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15) -> float:
    """Sum over bins of |accuracy - confidence| weighted by the bin's share of records."""
    return _calibration_error(calibration_bins(confidence, correct, bins))


def _calibration_error(table: list[tuple[float, float, int]]) -> float:
    total = sum(n for _, _, n in table)
    return float(sum(n * abs(acc - conf) for conf, acc, n in table) / total) if total else float("nan")


def plot_reliability(confidence: Sequence[float], correct: Sequence[bool], path: Path, title: str) -> None:
    """The reliability diagram: accuracy against confidence per bin, the diagonal is perfect."""
    plt = pyplot()
    table = calibration_bins(confidence, correct)
    ece = _calibration_error(table)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5, 5.5), sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.plot([c for c, _, _ in table], [a for _, a, _ in table], marker="o", label="model")
    top.set_ylabel("accuracy")
    top.set_title(f"{title} (ECE {ece:.3f})")
    top.legend(fontsize=8)
    bottom.bar([c for c, _, _ in table], [n for _, _, n in table], width=0.9 / 15)
    bottom.set_xlabel("confidence of the answer")
    bottom.set_ylabel("records")
    save_figure(fig, path)
