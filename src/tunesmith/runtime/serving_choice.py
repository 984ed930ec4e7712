"""Which proven export answers by default (`--backend auto`): of those that hold by the quality
rule (an fp32 export always does, proven answer for answer; int8 by its validation verdict), the
fastest measured at the batch sizes the server forms. The export stage decides and writes
export/serving.json (export/choose_served.py); `serve` and `predict` read it here, and time the
candidates again when the run was measured on another machine.

Speed is the geometric mean of the milliseconds per text over the batch sizes 1, a quarter of
`serve.max_batch_size` and the whole of it, so no one size outweighs the others; the candidates
are timed in turns (each size, each repeat, every candidate), so a busy moment slows them alike."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith.runtime.formats import EXPORT_DIR

SERVING_FILE = "serving.json"
REPEATS = 3


@dataclass(frozen=True)
class Candidate:
    name: str
    holds: bool  # by the quality rule
    reason: str  # the quality verdict, one line
    ms_per_text: dict[int, float]  # batch size -> milliseconds per text

    @property
    def pace(self) -> float:
        """The geometric mean of ms per text over the batch sizes timed."""
        values = [v for v in self.ms_per_text.values() if v > 0]
        return math.exp(sum(map(math.log, values)) / len(values)) if values else math.inf


def batch_sizes(max_batch_size: int) -> list[int]:
    return sorted({1, max(1, max_batch_size // 4), max_batch_size})


def pick(candidates: Sequence[Candidate]) -> tuple[str, str]:
    """The fastest candidate that holds, and why, in one line (a lone one needs no timing)."""
    eligible = [c for c in candidates if c.holds]
    if not eligible:
        raise ValueError("no candidate holds by the quality rule")
    best = min(eligible, key=lambda c: c.pace)
    others = [c for c in eligible if c is not best]
    refused = [c for c in candidates if not c.holds]
    parts = [f"{best.reason}; {shown_pace(best)}" if best.ms_per_text else best.reason]
    if others:
        parts.append(", ".join(f"{c.name} {c.pace / best.pace:.2f}x its time" for c in others))
    else:
        parts.append("the only proven export")
    if refused:
        parts.append("not " + ", ".join(f"{c.name} ({c.reason})" for c in refused))
    return best.name, "; ".join(parts)


def shown_pace(candidate: Candidate) -> str:
    return "ms a text at batch " + ", ".join(
        f"{size} {ms:.2f}" for size, ms in sorted(candidate.ms_per_text.items())
    )


def time_engines(
    engines: Mapping[str, Callable[[Any], Any]],
    batches: Mapping[str, Mapping[int, Sequence[Any]]],
    texts: Mapping[int, int],
    repeats: int = REPEATS,
) -> dict[str, dict[int, float]]:
    """Milliseconds per text of each engine over its own `batches[name][size]` (the same
    `texts[size]` texts, as that engine's tokenizer gives them), the best of `repeats`; engines
    take turns. Each runs one batch of every size first (warm-up)."""
    for name, engine in engines.items():
        for sized in batches[name].values():
            engine(sized[0])
    best: dict[str, dict[int, float]] = {name: {} for name in engines}
    for size in texts:
        for _ in range(repeats):
            for name, engine in engines.items():
                started = time.perf_counter()
                for batch in batches[name][size]:
                    engine(batch)
                ms = (time.perf_counter() - started) * 1000 / max(1, texts[size])
                best[name][size] = min(best[name].get(size, math.inf), ms)
    return best


def read_choice(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / EXPORT_DIR / SERVING_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def candidates_of(record: Mapping[str, Any]) -> list[Candidate]:
    return [
        Candidate(name, c["holds"], c["reason"], {int(k): v for k, v in c["ms_per_text"].items()})
        for name, c in record["candidates"].items()
    ]
