"""The FastAPI app over one or more run folders: our API (/v1/predict, /v1/answer, /v1/feedback), the Open
Inference Protocol (/v2), OpenAI-compatible routes, a WebSocket, admin routes, /metrics, and
OpenAPI docs at /docs. Models load in the background; /ready says why while they are not ready.

Bad input always gets a 4xx whose message says what is wrong; a 500 means a bug of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tunesmith import __version__
from tunesmith.serve.limits import BodySizeLimit
from tunesmith.serve.observe import Observe
from tunesmith.serve.routes import admin, knowledge, openai, v1, v2, websocket
from tunesmith.serve.schemas import ErrorResponse
from tunesmith.serve.service import ServeError, Service
from tunesmith.serve.settings import ServeSettings


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"


def build_app(settings: ServeSettings) -> Any:
    """The ASGI app for `settings` (models load when it starts)."""
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.versions.start_loading()
        yield
        await service.versions.close()  # uvicorn stopped accepting; finish what was accepted

    app = FastAPI(
        title=f"tunesmith: {settings.model_name}",
        version=__version__,
        description=f"Versions: {', '.join(settings.runs)}.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            body = ErrorResponse(
                error="the request body is not valid JSON", details=[_describe(e) for e in errors]
            )
            return JSONResponse(body.model_dump(), status_code=400)
        body = ErrorResponse(error="invalid request", details=[_describe(e) for e in errors])
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(ServeError)
    async def refused(_: Request, exc: ServeError) -> JSONResponse:
        body = ErrorResponse(error=exc.message, details=exc.details)
        return JSONResponse(body.model_dump(), status_code=exc.status, headers=exc.headers)

    for module in (v1, knowledge, v2, openai, websocket, admin):
        app.include_router(module.router)
    wrapped: Any = Observe(app, service.metrics)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        wrapped = CORSMiddleware(
            wrapped,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["*"],
        )
    return BodySizeLimit(wrapped, settings.max_body_bytes)


def from_environment() -> Any:
    """uvicorn's factory in each worker: settings from the environment, threads set first."""
    from tunesmith.threads import set_compute_threads

    settings = ServeSettings.from_env()
    set_compute_threads(settings.threads)
    return build_app(settings)
