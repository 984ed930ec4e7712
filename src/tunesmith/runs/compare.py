"""Two runs side by side: what their recipes set differently, and how their metrics moved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith.runs.listing import read_json, read_recipe

# Keys that differ between any two runs without changing what was trained.
_IGNORED = ("output.dir",)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"training": {"epochs": 3}} -> {"training.epochs": 3}; lists stay whole values."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class MetricDelta:
    split: str
    metric: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        return self.b - self.a


def recipe_diff(a: Path, b: Path) -> list[tuple[str, Any, Any]]:
    """(key, value in A, value in B) for every recipe key the two runs set differently."""
    left, right = flatten(read_recipe(a)), flatten(read_recipe(b))
    keys = sorted(set(left) | set(right))
    return [
        (key, left.get(key, "-"), right.get(key, "-"))
        for key in keys
        if key not in _IGNORED and left.get(key) != right.get(key)
    ]


def metric_deltas(a: Path, b: Path) -> list[MetricDelta]:
    """Every numeric metric both runs report, per split, with B - A."""
    left, right = read_json(a / "metrics.json"), read_json(b / "metrics.json")
    deltas = []
    for split in ("validation", "test"):
        for metric, value in (left.get(split) or {}).items():
            other = (right.get(split) or {}).get(metric)
            if metric == "count" or not isinstance(value, int | float) or not isinstance(other, int | float):
                continue
            deltas.append(MetricDelta(split, metric, float(value), float(other)))
    return deltas
