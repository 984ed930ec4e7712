"""The runs under the root as the console lists them: one row per run folder, its job's state
when the queue is running it, sorted and filtered by what the query string asks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith.runs.listing import Headline, RunInfo, find_runs, headline
from tunesmith.web.jobs import Job

SORT_KEYS = ("name", "status", "task", "model", "created", "metric")


@dataclass(frozen=True)
class RunRow:
    name: str  # the folder's name under the root: what URLs use
    info: RunInfo
    headline: Headline | None
    releasable: bool | None  # None: not evaluated yet
    job: Job | None

    @property
    def status(self) -> str:
        if self.job is not None and self.job.state in ("queued", "running"):
            return self.job.state
        if self.info.status == "finished" and self.releasable is False:
            return "not releasable"
        return self.info.status

    @property
    def model(self) -> str:
        return Path(self.info.model).name  # a local model folder shows as its name


def task_headline(run_dir: Path) -> tuple[str, ...]:
    from tunesmith import recipe as recipe_io
    from tunesmith.tasks import get_task

    try:
        return get_task(recipe_io.load_resolved(run_dir).task).headline
    except Exception:  # an old or broken recipe still lists, with the usual metrics
        return ()


def jobs_by_name(jobs: list[Job]) -> dict[str, Job]:
    """Each run name's newest job."""
    return {job.name: job for job in sorted(jobs, key=lambda j: j.created) if job.name}


def row(info: RunInfo, jobs: dict[str, Job]) -> RunRow:
    name = info.path.name
    job = jobs.get(name.removeprefix(".").removesuffix(".partial"))  # a staging folder is its run's
    return RunRow(name, info, headline(info.path, task_headline(info.path)), info.releasable, job)


def rows(root: Path, jobs: list[Job]) -> list[RunRow]:
    by_name = jobs_by_name(jobs)
    return [row(info, by_name) for info in find_runs(root)]


def sort_order(query: dict[str, Any]) -> tuple[str, str]:
    """The column the list is sorted by and "asc" or "desc" (default: newest first)."""
    key = query.get("sort") if query.get("sort") in SORT_KEYS else "created"
    return str(key), str(query.get("order", "desc" if key == "created" else "asc"))


def select(found: list[RunRow], query: dict[str, Any]) -> list[RunRow]:
    """Filter by `q` (in name, task or model), `status` and `task`; sort by `sort` and `order`."""
    text = str(query.get("q") or "").strip().lower()
    status, task = query.get("status") or "", query.get("task") or ""
    kept = [
        r
        for r in found
        if (not text or text in f"{r.name} {r.info.task} {r.model}".lower())
        and (not status or r.status == status)
        and (not task or r.info.task == task)
    ]
    key, order = sort_order(query)
    reverse = order == "desc"

    def sort_value(r: RunRow) -> Any:
        if key == "metric":
            return (r.headline is not None, r.headline.value if r.headline else 0.0)
        if key == "name":
            return r.name.lower()
        return str(getattr(r, key, None) or getattr(r.info, key, "")).lower()

    return sorted(kept, key=sort_value, reverse=reverse)


def run_files(run_dir: Path) -> list[tuple[str, int]]:
    """(relative path, size) of every file in the run, for the download list."""
    return sorted(
        (p.relative_to(run_dir).as_posix(), p.stat().st_size)
        for p in run_dir.rglob("*")
        if p.is_file() and not p.is_symlink()
    )


def resolve_run(root: Path, name: str) -> Path:
    """A run folder directly under the root; KeyError for any other name."""
    if "/" in name or "\\" in name or name in ("", ".", "..") or name == ".console":
        raise KeyError(name)
    path = root / name
    if not (path / "recipe.yaml").is_file():
        raise KeyError(name)
    return path


def resolve_file(run_dir: Path, relative: str) -> Path:
    """A file inside the run folder; KeyError for '..', links out, folders or nothing."""
    path = (run_dir / relative).resolve()
    if not path.is_relative_to(run_dir.resolve()) or not path.is_file():
        raise KeyError(relative)
    return path
