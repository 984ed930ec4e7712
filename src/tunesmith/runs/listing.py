"""The runs under a folder, with their key metrics, read from what each run folder holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tunesmith.bundle import MANIFEST, read_json_if_present
from tunesmith.recipe import RECIPE_FILE

# The metrics a list of runs shows, the first found first, when the task's own are not known.
KEY_METRICS = ("accuracy", "macro_f1", "f1", "pr_auc", "mrr_at_10", "rmse", "bleu", "exact_match", "loss")


@dataclass(frozen=True)
class RunInfo:
    path: Path
    status: str  # finished | trained | prepared | interrupted
    name: str
    task: str
    model: str
    created: str
    metrics: dict[str, float] = field(default_factory=dict)  # test split (else validation), numbers only
    train_seconds: float | None = None
    releasable: bool | None = None  # the manifest's verdict; None before the run is bundled


def read_json(path: Path) -> dict[str, Any]:
    """`read_json_if_present`, and {} for a file that cannot be read either: a broken run still lists."""
    try:
        return read_json_if_present(path)
    except (OSError, ValueError):
        return {}


def read_recipe(run_dir: Path) -> dict[str, Any]:
    """The run's recipe as plain data (no validation: an old run still lists)."""
    try:
        loaded = yaml.safe_load((run_dir / RECIPE_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def headline_metrics(run_dir: Path) -> dict[str, float]:
    """Numeric metrics of the test split (validation when there is no test split)."""
    metrics = read_json(run_dir / "metrics.json")
    split = metrics.get("test") or metrics.get("validation") or {}
    return {k: float(v) for k, v in split.items() if isinstance(v, int | float) and k != "count"}


@dataclass(frozen=True)
class Headline:
    metric: str
    value: float
    interval: tuple[float, float] | None  # the 95% bootstrap interval, when evaluate wrote one


def headline(run_dir: Path, task_headline: tuple[str, ...] = ()) -> Headline | None:
    """The run's first headline metric on test (else validation), with its interval."""
    metrics = read_json(run_dir / "metrics.json")
    split = metrics.get("test") or metrics.get("validation") or {}
    for name in (*task_headline, *KEY_METRICS):
        value = split.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            interval = (split.get("confidence_intervals") or {}).get(name)
            bounds = (float(interval[0]), float(interval[1])) if isinstance(interval, list) else None
            return Headline(name, float(value), bounds)
    return None


def run_info(run_dir: Path) -> RunInfo | None:
    recipe = read_recipe(run_dir)
    if not recipe:
        return None
    manifest = read_json(run_dir / MANIFEST)
    summary = read_json(run_dir / "train_summary.json")
    if run_dir.name.startswith(".") and run_dir.name.endswith(".partial"):
        status = "interrupted"
    elif manifest:
        status = "finished"
    elif summary:
        status = "trained"
    else:
        status = "prepared" if (run_dir / "data").is_dir() else "started"
    created = manifest.get("created") or ""
    if not created:
        import time

        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime((run_dir / RECIPE_FILE).stat().st_mtime))
    return RunInfo(
        path=run_dir,
        status=status,
        name=str(recipe.get("name", run_dir.name)),
        task=str((recipe.get("task") or {}).get("type", "")),
        model=str(summary.get("model") or (recipe.get("model") or {}).get("name", "")),
        created=created,
        metrics=headline_metrics(run_dir),
        train_seconds=summary.get("train_runtime_s"),
        releasable=manifest.get("releasable"),
    )


def find_runs(root: Path) -> list[RunInfo]:
    """Every run folder directly under `root` (or `root` itself), oldest first."""
    candidates = [root] if (root / RECIPE_FILE).is_file() else sorted(p for p in root.iterdir() if p.is_dir())
    found = [info for p in candidates if (info := run_info(p)) is not None]
    return sorted(found, key=lambda info: info.created)
