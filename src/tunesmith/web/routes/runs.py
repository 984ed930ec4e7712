"""The runs list and a run's page: report, data validation report, model card, gates, curves
and every file of the run for download."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from markdown_it import MarkdownIt

from tunesmith.runs.listing import read_json, read_recipe, run_info
from tunesmith.web.pages import render, state_of
from tunesmith.web.runs_view import (
    jobs_by_name,
    resolve_file,
    resolve_run,
    row,
    rows,
    run_files,
    select,
    sort_order,
)

router = APIRouter()
# A run's own HTML files (reports) are shown as they are, with nothing able to run in them.
FILE_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _run_dir(request: Request, name: str):  # type: ignore[no-untyped-def]
    try:
        return resolve_run(state_of(request).settings.root, name)
    except KeyError:
        raise HTTPException(404) from None


@router.get("/")
def runs_list(request: Request) -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    query = dict(request.query_params)
    jobs = state.queue.all()
    found = rows(state.settings.root, jobs)
    shown = select(found, query)
    active = [j for j in jobs if j.state in ("queued", "running")]
    sort, order = sort_order(query)
    return render(
        request,
        "runs.html",
        runs=shown,
        total=len(found),
        query=query,
        sort=sort,
        order=order,
        statuses=sorted({r.status for r in found}),
        tasks=sorted({r.info.task for r in found if r.info.task}),
        active=active,
        progress={j.id: state.queue.progress(j) for j in active},
    )


@router.get("/runs/{name}")
def run_page(request: Request, name: str) -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    run_dir = _run_dir(request, name)
    info = run_info(run_dir)
    found = row(info, jobs_by_name(state.queue.all())) if info is not None else None
    metrics = read_json(run_dir / "metrics.json")
    card = run_dir / "model" / "README.md"
    card_html = ""
    if card.is_file():  # raw HTML in the card stays text: the card is data, not markup
        text = card.read_text("utf-8")
        if text.startswith("---\n") and "\n---\n" in text[4:]:  # the hub's YAML header: not for reading
            text = text[4:].split("\n---\n", 1)[1]
        card_html = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    gates = read_json(run_dir / "gates.json")
    summary = read_json(run_dir / "train_summary.json")
    headline = found.headline if found else None
    names = [headline.metric] if headline else []
    return render(
        request,
        "run.html",
        name=name,
        run=found,
        recipe=read_recipe(run_dir),
        metrics=metrics,
        metric_names=_metric_names(metrics, names),
        gates=gates,
        summary=summary,
        card_html=card_html,
        files=run_files(run_dir),
        has=lambda path: (run_dir / path).is_file(),
    )


def _metric_names(metrics: dict, first: list[str]) -> list[str]:  # type: ignore[type-arg]
    """The numbers both splits may show: the headline first, then the rest evaluate wrote."""
    seen = list(first)
    for split in ("validation", "test"):
        for key, value in (metrics.get(split) or {}).items():
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and key not in seen
                and key != "count"
            ):
                seen.append(key)
    return seen[:12]


@router.get("/runs/{name}/files/{path:path}")
def run_file(request: Request, name: str, path: str, download: bool = False) -> Response:
    state_of(request).access.require(request, "read")
    run_dir = _run_dir(request, name)
    try:
        file = resolve_file(run_dir, path)
    except KeyError:
        raise HTTPException(404) from None
    response = FileResponse(
        file,
        filename=file.name,
        content_disposition_type="attachment" if download else "inline",
        media_type=_media_type(file.name),
    )
    response.headers["content-security-policy"] = FILE_POLICY
    return response


def _media_type(name: str) -> str | None:
    for suffix, kind in (
        (".html", "text/html; charset=utf-8"),
        (".md", "text/plain; charset=utf-8"),
        (".jsonl", "text/plain; charset=utf-8"),
        (".yaml", "text/plain; charset=utf-8"),
        (".csv", "text/plain; charset=utf-8"),
        (".log", "text/plain; charset=utf-8"),
    ):
        if name.endswith(suffix):
            return kind
    return None
