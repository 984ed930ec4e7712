"""Re-run a finished run from its own recipe and say whether it comes out the same.

The manifest holds what a rerun must match: the data fingerprint, the recipe's hash, the seed, the
library versions and the metrics. The rerun goes through the same `run` line into a new folder.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.bundle import read_manifest
from tunesmith.errors import GatesFailed
from tunesmith.recipe import load_resolved
from tunesmith.runs.compare import MetricDelta, metric_deltas


@dataclass
class Reproduction:
    original: Path
    rerun: Path
    tolerance: float
    same_data: bool
    same_recipe: bool
    changed_libraries: dict[str, tuple[str, str]] = field(default_factory=dict)
    deltas: list[MetricDelta] = field(default_factory=list)

    @property
    def differing(self) -> list[MetricDelta]:
        return [d for d in self.deltas if abs(d.delta) > self.tolerance]

    @property
    def matches(self) -> bool:
        return self.same_data and self.same_recipe and bool(self.deltas) and not self.differing


def reproduce(run_dir: Path, output: Path, tolerance: float = 1e-6) -> Reproduction:
    from tunesmith.pipeline.run import run

    original = read_manifest(run_dir)
    recipe = load_resolved(run_dir)
    # A rerun that misses a gate is still complete; its metrics are what is compared.
    with contextlib.suppress(GatesFailed):
        run(recipe, output, overwrite=True)
    rerun = read_manifest(output)
    libraries: dict[str, tuple[str, str]] = {}
    for name, version in original.get("libraries", {}).items():
        now = rerun.get("libraries", {}).get(name)
        if now != version:
            libraries[name] = (version, str(now))
    return Reproduction(
        original=run_dir,
        rerun=output,
        tolerance=tolerance,
        same_data=original.get("data_fingerprint") == rerun.get("data_fingerprint"),
        same_recipe=original.get("recipe_sha256") == rerun.get("recipe_sha256"),
        changed_libraries=libraries,
        deltas=metric_deltas(run_dir, output),
    )


def as_json(result: Reproduction) -> dict[str, Any]:
    return json.loads(
        json.dumps(
            {
                "original": str(result.original),
                "rerun": str(result.rerun),
                "matches": result.matches,
                "same_data": result.same_data,
                "same_recipe": result.same_recipe,
                "tolerance": result.tolerance,
                "changed_libraries": result.changed_libraries,
                "differing_metrics": [
                    {"split": d.split, "metric": d.metric, "original": d.a, "rerun": d.b}
                    for d in result.differing
                ],
            }
        )
    )
