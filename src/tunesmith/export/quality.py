"""The rule a faster variant of the trained model (an int8 graph) must meet to answer in its place,
judged on the validation split: at least `export.agreement` of its answers are the trained
model's, and its headline metric is not worse beyond noise - the 95% paired bootstrap interval of
(variant - trained) lies above -`export.metric_margin` points. A share of identical answers alone
cannot tell a variant that flips near-ties both ways (harmless) from one that breaks what the
model got right; the interval can, and the agreement floor keeps answers users see stable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tunesmith.evaluate.compare import in_points
from tunesmith.evaluate.trivial import gain_over
from tunesmith.runtime.parity import agreement


@dataclass(frozen=True)
class QualityRule:
    agreement: float  # the least share of identical answers
    margin: float  # points the interval's lower end may reach below zero

    @classmethod
    def of(cls, export: Any, int8: bool = False) -> QualityRule:
        """The recipe's rule (`export.agreement`, `export.metric_margin`); for int8, a target the
        recipe set in `export.int8.min_agreement` replaces the agreement."""
        wanted = export.int8.min_agreement if int8 and export.int8.min_agreement is not None else None
        return cls(export.agreement if wanted is None else wanted, export.metric_margin)

    def describe(self) -> str:
        return f">= {self.agreement:.1%} of validation answers, metric interval above -{self.margin:g} points"


@dataclass(frozen=True)
class Verdict:
    records: int
    agreement: float
    metric: str | None  # the headline metric judged (None: the task has no per-record metric)
    difference: float | None  # variant - trained, in points; positive: the variant is better
    low: float | None  # its 95% paired bootstrap interval
    high: float | None
    holds: bool
    reason: str

    def summary(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "agreement": self.agreement,
            "metric": self.metric,
            "difference_points": self.difference,
            "difference_low": self.low,
            "difference_high": self.high,
            "holds": self.holds,
            "reason": self.reason,
        }


def exact(records: int) -> Verdict:
    """An fp32 export proven answer for answer: nothing to judge."""
    return Verdict(records, 1.0, None, 0.0, 0.0, 0.0, True, "every answer identical (fp32)")


def judge(
    task: Any,
    records: Sequence[dict[str, Any]],
    trained: Sequence[Any],
    variant: Sequence[Any],
    labels: list[str],
    rule: QualityRule,
) -> Verdict:
    """Whether `variant`'s answers to `records` (validation, with their references) may stand in
    for `trained`'s under `rule`."""
    share = agreement(trained, variant)
    if share < rule.agreement:
        return Verdict(
            len(records), share, None, None, None, None, False,
            f"{share:.2%} of answers agree, below {rule.agreement:.2%}",
        )  # fmt: skip
    scorers = task.subset_metrics(records, variant, labels)
    if not scorers:
        return Verdict(
            len(records), share, None, None, None, None, True,
            f"{share:.1%} of answers agree (the task has no per-record metric to compare)",
        )  # fmt: skip
    found = gain_over(task, records, trained, labels, scorers, "trained")
    metric = found["metric"]
    scale = _points(metric, found["metrics"][metric])
    difference, low, high = (scale * found[k] for k in ("gain", "gain_low", "gain_high"))
    holds = low > -rule.margin
    shown = f"{metric} {difference:+.2f} points (95% CI {low:+.2f} to {high:+.2f})"
    reason = (
        f"{share:.1%} of answers agree, {shown}"
        if holds
        else f"{shown}: below -{rule.margin:g} points, though {share:.1%} of answers agree"
    )
    if not holds and 100 / len(records) >= rule.margin / 2:  # too few records to show less
        reason += (
            f" (one answer of {len(records)} is {100 / len(records):.2g} points: a larger validation split "
            "or a wider export.metric_margin can show a smaller loss)"
        )
    return Verdict(len(records), share, metric, difference, low, high, holds, reason)


def _points(metric: str, trained_value: float) -> float:
    """What one unit of `metric` is in points: x100 for a share, x1 for BLEU; RMSE and MAE in
    percent of the trained model's value."""
    points = in_points(metric, 1.0)
    if points is not None:
        return points
    return 100 / abs(trained_value) if trained_value else 0.0
