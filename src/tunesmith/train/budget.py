"""The time limit of fitting (`training.time_limit`): the clock every learner is fitted against.

The fast learners run first and take what they take (seconds); the transformer is then planned
to fit in what remains (train/time_plan.py) and stopped at the deadline if it would overrun.
"""

from __future__ import annotations

import time
from typing import Any


def duration(seconds: float) -> str:
    """'20 min', '1 h 30 min', '45 s'."""
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


class Budget:
    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.started = time.monotonic()
        self.notes: list[str] = []

    @property
    def deadline(self) -> float | None:
        return None if self.limit is None else self.started + self.limit

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float | None:
        return None if self.limit is None else self.limit - self.elapsed()

    def describe(self) -> str:
        return "none" if self.limit is None else duration(self.limit)

    def report(self) -> dict[str, Any]:
        return {"limit_s": self.limit, "used_s": round(self.elapsed(), 1), "notes": self.notes}
