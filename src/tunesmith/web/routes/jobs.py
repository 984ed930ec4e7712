"""A job's page: its state, progress and log, live through server-sent events; stop and resume."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse

from tunesmith.web.jobs import ACTIVE, RESUMABLE, Job
from tunesmith.web.pages import render, state_of

router = APIRouter()
TICK_S = 0.5


def _job(request: Request, job_id: str) -> Job:
    try:
        return state_of(request).queue.get(job_id)
    except KeyError:
        raise HTTPException(404) from None


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str) -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    job = _job(request, job_id)
    if job.state == "draft":
        return RedirectResponse(f"/new/{job.id}", status_code=303)
    log, offset = state.queue.log(job)
    run_exists = bool(job.name) and (state.settings.root / job.name / "recipe.yaml").is_file()
    return render(
        request,
        "job.html",
        job=job,
        log=log,
        offset=offset,
        progress=state.queue.progress(job),
        active=job.state in ACTIVE,
        resumable=job.state in RESUMABLE,
        run_exists=run_exists,
    )


@router.get("/jobs/{job_id}/log")
def job_log(request: Request, job_id: str) -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    return PlainTextResponse(state.queue.log(_job(request, job_id))[0])


def _event(kind: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {kind}\n{lines}\n"


@router.get("/jobs/{job_id}/events")
async def job_events(request: Request, job_id: str, offset: int = 0) -> Response:
    """Server-sent events: `log` (new lines), `progress` (JSON), and `end` when the job is over."""
    state = state_of(request)
    state.access.require(request, "read")
    _job(request, job_id)

    async def stream() -> AsyncIterator[str]:
        position = max(0, offset)
        last_progress = None
        while not await request.is_disconnected():
            job = state.queue.get(job_id)
            text, position = state.queue.log(job, position)
            if text:
                yield _event("log", text.rstrip("\n"))
            progress = state.queue.progress(job)
            if progress != last_progress:
                last_progress = progress
                yield _event("progress", json.dumps(progress))
            if job.state not in ACTIVE:
                yield _event("end", job.state)
                return
            await asyncio.sleep(TICK_S)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


@router.post("/jobs/{job_id}/{action}")
def job_action(request: Request, job_id: str, action: Literal["stop", "resume"]) -> Response:
    """Stop (the CLI's Ctrl-C) or resume (its --resume), then back to the job's page."""
    state = state_of(request)
    state.access.require(request, "run")
    job = _job(request, job_id)
    (state.queue.stop if action == "stop" else state.queue.resume)(job.id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
