"""A running `tunesmith serve`: versions, traffic split, live request rate and latency."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tunesmith.web.pages import render, state_of

router = APIRouter()


@router.get("/served")
async def served_page(request: Request) -> Response:
    state = state_of(request)
    state.access.require(request, "read")
    view = await run_in_threadpool(state.served.look) if state.served is not None else None
    return render(request, "served.html", view=view)
