"""Two runs side by side: `tunesmith compare`'s verdict (paired intervals and p-values on the
same records), what the recipes set differently, and every metric both report."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tunesmith.errors import TunesmithError
from tunesmith.evaluate.compare import Comparison, compare_runs, format_p
from tunesmith.runs.compare import metric_deltas, recipe_diff
from tunesmith.runs.listing import find_runs, headline
from tunesmith.web.pages import render, state_of
from tunesmith.web.runs_view import resolve_run, task_headline

router = APIRouter()
# Metrics where a drop is the good direction: coloured that way.
LOWER_IS_BETTER = frozenset({"ece", "loss", "rmse", "mae", "perplexity"})
_cache: dict[tuple[str, str, float, float], Comparison] = {}
_lock = threading.Lock()


def _stamp(run_dir: Path) -> float:
    manifest = run_dir / "manifest.json"
    return manifest.stat().st_mtime if manifest.is_file() else 0.0


def _compare(a: Path, b: Path) -> Comparison:
    """compare_runs, once per pair of finished runs (both models answer the whole test split)."""
    key = (str(a), str(b), _stamp(a), _stamp(b))
    with _lock:
        if key in _cache:
            return _cache[key]
    result = compare_runs(a, b, None, "auto")
    with _lock:
        _cache[key] = result
    return result


@router.get("/compare")
async def compare_page(request: Request, a: str = "", b: str = "") -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    root = state.settings.root
    names = [info.path.name for info in find_runs(root) if info.status == "finished"]
    context: dict[str, Any] = {"names": names, "a": a, "b": b, "format_p": format_p, "lower": LOWER_IS_BETTER}
    if not (a and b):
        return render(request, "compare.html", **context)
    try:
        run_a, run_b = resolve_run(root, a), resolve_run(root, b)
    except KeyError as missing:
        return render(request, "compare.html", 404, error=f"no run named {missing}", **context)
    if a == b:
        return render(request, "compare.html", 400, error="pick two different runs", **context)
    context |= {
        "recipe_diff": recipe_diff(run_a, run_b),
        "deltas": metric_deltas(run_a, run_b),
        "headlines": [headline(r, task_headline(r)) for r in (run_a, run_b)],
    }
    try:
        context["comparison"] = await run_in_threadpool(_compare, run_a, run_b)
    except TunesmithError as error:
        context["error"] = str(error)
    return render(request, "compare.html", **context)
