"""The state every decision of init's planner shares: the sample, its profiled columns, the user's
wishes and the plan being filled. The decisions are mixins over it, one module per question."""

from __future__ import annotations

from tunesmith.data.columns import Column
from tunesmith.init.choices import Choice, Plan, Wishes, find_column
from tunesmith.init.sample import Sample


class PlannerState:
    def __init__(self, sample: Sample, columns: list[Column], wishes: Wishes) -> None:
        self.sample = sample
        self.columns = columns
        self.wishes = wishes
        self.plan = Plan(sample.path, sample.rows, sample.complete, Choice("", ""))

    def role(self, path: str, text: str) -> None:
        self.plan.roles.setdefault(path, text)

    def column(self, path: str, flag: str) -> Column:
        return find_column(self.columns, path, flag)
