"""Online A/B analysis: outcome logs from two served model versions -> is B's success rate
different, by how much, and was the test allowed to stop yet?

A log is JSONL, one request per line: {"version": "a", "request_id": "...", "outcome": 1}
(outcome 1/0 or true/false: the user accepted the answer, the ticket was resolved ...). A request
id seen twice counts once (its last outcome). The test is the two-sided two-proportion z-test
(pooled); the interval of B - A is the unpooled Wald interval; the sample size per arm for a
minimum detectable effect uses the usual normal approximation. Written with scipy's normal
quantiles: the formulas are a few lines and the well-known libraries for them (statsmodels) are
not otherwise needed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tunesmith.errors import DataError


@dataclass(frozen=True)
class Arm:
    version: str
    requests: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.requests if self.requests else float("nan")


@dataclass(frozen=True)
class TwoProportions:
    a: Arm
    b: Arm
    z: float
    p_value: float
    low: float  # interval of rate(B) - rate(A)
    high: float

    @property
    def delta(self) -> float:
        return self.b.rate - self.a.rate


def two_proportion_test(a: Arm, b: Arm, level: float = 0.95) -> TwoProportions:
    from scipy.stats import norm

    pooled = (a.successes + b.successes) / (a.requests + b.requests)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / a.requests + 1 / b.requests))
    delta = b.rate - a.rate
    z = delta / se_pooled if se_pooled > 0 else 0.0
    p = float(2 * norm.sf(abs(z)))
    se = math.sqrt(a.rate * (1 - a.rate) / a.requests + b.rate * (1 - b.rate) / b.requests)
    margin = float(norm.ppf(0.5 + level / 2)) * se
    return TwoProportions(a, b, z, p, delta - margin, delta + margin)


def sample_size_per_arm(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Requests per arm to detect an absolute change `mde` from `baseline` (two-sided)."""
    from scipy.stats import norm

    if not 0 < baseline < 1 or not 0 < baseline + mde < 1 or mde == 0:
        raise ValueError(
            "baseline and baseline + mde must lie strictly between 0 and 1, and mde must not be 0"
        )
    p1, p2 = baseline, baseline + mde
    mean = (p1 + p2) / 2
    z_alpha, z_power = norm.ppf(1 - alpha / 2), norm.ppf(power)
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / mde**2)


def _outcome(value: object, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false", "yes", "no"):
        return int(value.strip().lower() in ("1", "true", "yes"))
    raise DataError(f"{where}: field 'outcome' must be 1/0 or true/false, got {value!r}")


def read_outcomes(path: Path) -> dict[str, Arm]:
    """Arms by version from an outcome log; a bad line is named with its number and field."""
    latest: dict[tuple[str, str], int] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"{where}: not a JSON object") from None
        for field in ("version", "request_id", "outcome"):
            if not isinstance(record, dict) or record.get(field) is None:
                raise DataError(f"{where}: field '{field}' is missing")
        latest[(str(record["version"]), str(record["request_id"]))] = _outcome(record["outcome"], where)
    arms: dict[str, list[int]] = {}
    for (version, _), outcome in latest.items():
        arms.setdefault(version, []).append(outcome)
    return {v: Arm(v, len(o), sum(o)) for v, o in sorted(arms.items())}
