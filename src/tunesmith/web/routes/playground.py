"""Ask a run's model one question and see its answer, its probabilities and the text it saw."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tunesmith.errors import TunesmithError
from tunesmith.runs.listing import find_runs, read_json
from tunesmith.web.pages import render, state_of
from tunesmith.web.runs_view import resolve_run

router = APIRouter()
MAX_TEXT = 10_000


def _page(
    request: Request, run: str, text: str = "", pair: str = "", status: int = 200, **more: object
) -> Response:
    root = state_of(request).settings.root
    runs = [(i.path.name, i.task) for i in find_runs(root) if i.status == "finished"]
    tasks = dict(runs)
    two_texts = tasks.get(run) in ("matching", "extractive_qa")
    return render(
        request,
        "playground.html",
        status,
        runs=runs,
        run=run,
        text=text,
        pair=pair,
        two_texts=two_texts,
        **more,
    )


@router.get("/playground")
def playground_form(request: Request, run: str = "") -> Response:
    state_of(request).access.require(request, "read")
    return _page(request, run)


@router.post("/playground")
async def playground_ask(request: Request) -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    form = await request.form(max_files=0, max_fields=5)
    run, text, pair = (str(form.get(k) or "") for k in ("run", "text", "pair"))
    if not text.strip():
        return _page(request, run, text, pair, 400, error="type a text to ask the model")
    if len(text) > MAX_TEXT or len(pair) > MAX_TEXT:
        return _page(request, run, text, pair, 413, error=f"at most {MAX_TEXT:,} characters a text")
    try:
        run_dir = resolve_run(state.settings.root, run)
    except KeyError:
        return _page(request, run, text, pair, 404, error=f"no run named {run!r}: pick one from the list")
    manifest = read_json(run_dir / "manifest.json")
    version = f"{run_dir.name} (bundle of {manifest.get('created', 'an unfinished run')[:19]})"
    try:
        answer = await run_in_threadpool(state.playground.ask, run_dir, version, text, pair or None)
    except TunesmithError as error:
        return _page(request, run, text, pair, 422, error=str(error))
    return _page(request, run, text, pair, answer=answer)
