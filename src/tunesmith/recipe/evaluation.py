"""`evaluation` (what is measured beyond the task metrics) and the syntax of release gates."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from tunesmith.recipe.base import Section


class Expectation(Section):
    """A CheckList-style expectation: add text to every test text and say what must happen."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Its key in metrics and gates.")
    add: str = Field(min_length=1, description="Text added to every test text.")
    at: Literal["end", "start"] = "end"
    direction: Literal["up", "down", "same"] = Field(
        description="up/down: the probability of `label` must not fall/rise (by more than "
        "`tolerance`); same: the answer must not change."
    )
    label: str | None = Field(None, description="The label whose probability up/down is about.")
    tolerance: float = Field(0.1, ge=0, le=1, description="How far the probability may move the wrong way.")

    @model_validator(mode="after")
    def _label_for_direction(self) -> Expectation:
        if self.direction != "same" and self.label is None:
            raise ValueError(f"expectation {self.name!r}: direction {self.direction} needs a label")
        return self


class EvaluationSection(Section):
    splits: list[Literal["validation", "test"]] = Field(["validation", "test"])
    batch_size: int = Field(64, ge=1)
    slices: list[str] = Field(
        default_factory=list,
        description="Attribute fields (gender, region, channel ...) to report metrics per value of; "
        "prepare keeps them beside each record.",
    )
    min_slice: int = Field(
        30, ge=1, description="Slices with fewer test records are shown but marked, not ranked in gaps."
    )
    robustness: list[
        Literal[
            "typos",
            "case",
            "punctuation",
            "whitespace",
            "width",
            "chinese_script",
            "names_places",
            "pii_masks",
            "truncation",
        ]
    ] = Field(
        default_factory=list,
        description="Perturbations of the test texts to measure accuracy and flip rate under "
        "(chinese_script needs the zh extra).",
    )
    expectations: list[Expectation] = Field(
        default_factory=list,
        description="Directional and invariance expectations on the test texts (single-label tasks).",
    )
    untrained: int = Field(
        500,
        ge=0,
        description="Text-generating tasks: the pretrained model before fine-tuning answers this many "
        "test records (a seeded sample) beside the fine-tuned one, so the report shows what fine-tuning "
        "bought (0: skip).",
    )
    baseline_gate: bool = Field(
        True,
        description="Release gate trivial_baseline.gain_low > 0: the model must beat answering without "
        "learning (the largest class, the label prior, the mean, the input copied) on the test "
        "split's lead metric, with the 95% interval of its gain above zero.",
    )

    @model_validator(mode="after")
    def _unique_expectations(self) -> EvaluationSection:
        names = [e.name for e in self.expectations]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"expectation names must be unique; repeated: {', '.join(repeated)}")
        return self


_CONDITION = re.compile(r"^\s*(>=|<=|==|>|<)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$")


def parse_condition(condition: str) -> tuple[str, float]:
    """'>= 0.85' -> ('>=', 0.85); ValueError naming the accepted form otherwise."""
    match = _CONDITION.match(str(condition))
    if not match:
        raise ValueError(f'{condition!r} is not a gate condition; write e.g. ">= 0.85" or "<= 0.05"')
    return match.group(1), float(match.group(2))
