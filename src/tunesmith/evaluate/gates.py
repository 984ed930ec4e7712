"""Release gates: the recipe's `gates` checked against the run's metrics; a run that misses one is
not releasable (the manifest says so, and `run`/`evaluate` exit non-zero).

A gate is `metric: "op number"`, e.g. `macro_f1: ">= 0.85"`. The metric is a dotted path into the
test split's metrics (`per_class.fraud.recall`), or into another split when it starts with its
name (`validation.accuracy`), or into an export's parity figures (`export.onnx-int8.agreement`).
A metric the run does not report fails its gate.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith.bundle import read_json_if_present
from tunesmith.recipe.evaluation import parse_condition

GATES_FILE = "gates.json"
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
SPLITS = ("test", "validation", "export")  # export.<format>.<figure>: an export's parity figures


@dataclass(frozen=True)
class GateResult:
    metric: str
    condition: str
    value: float | None

    @property
    def passed(self) -> bool:
        if self.value is None or self.value != self.value:  # missing or NaN
            return False
        op, threshold = parse_condition(self.condition)
        return _OPERATORS[op](self.value, threshold)


def _lookup(metrics: Mapping[str, Any], path: str) -> float | None:
    parts = path.split(".")
    split = parts[0] if parts[0] in SPLITS else "test"
    node: Any = metrics.get(split, {})
    for part in parts[1:] if parts[0] in SPLITS else parts:
        node = node.get(part) if isinstance(node, Mapping) else None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def check_gates(gates: Mapping[str, str], metrics: Mapping[str, Any]) -> list[GateResult]:
    return [GateResult(name, condition, _lookup(metrics, name)) for name, condition in gates.items()]


def summary(results: list[GateResult]) -> dict[str, Any]:
    """What the manifest and gates.json record."""
    return {
        "releasable": all(r.passed for r in results),
        "gates": {
            r.metric: {"condition": r.condition, "value": r.value, "passed": r.passed} for r in results
        },
    }


def read_gates(run_dir: Path) -> dict[str, Any] | None:
    """What `summary` recorded for the run, or None when its recipe has no gates."""
    return read_json_if_present(run_dir / GATES_FILE) or None
