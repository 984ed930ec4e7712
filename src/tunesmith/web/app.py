"""The console's FastAPI application: shared state, page rendering, refusals as pages, headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from tunesmith.web.access import Access, Denied
from tunesmith.web.jobs import JobQueue
from tunesmith.web.pages import ConsoleState, render
from tunesmith.web.playground import Playground
from tunesmith.web.served import ServedWatch
from tunesmith.web.settings import ConsoleSettings
from tunesmith.web.uploads import UploadRefused

HERE = Path(__file__).parent
# Pages: only this console's own script and styles; inline style attributes draw the bars.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status, status_code=status, message=message)


def create_app(settings: ConsoleSettings) -> FastAPI:
    from tunesmith.web.routes import compare, jobs, new_run, playground, runs, served, signin

    queue = JobQueue(settings.jobs_dir, settings.root, settings.parallel)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        queue.start()
        yield
        queue.close()

    app = FastAPI(
        title="tunesmith console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["urlpart"] = lambda value: quote(str(value), safe="")
    watch = ServedWatch(settings.server_url, settings.server_key) if settings.server_url else None
    app.state.console = ConsoleState(settings, Access(settings), queue, Playground(), watch, templates)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (runs, new_run, jobs, compare, playground, served, signin):
        app.include_router(module.router)

    @app.exception_handler(Denied)
    async def denied(request: Request, error: Denied) -> Response:
        if error.status == 401 and request.method == "GET":
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return _error_page(request, error.status, error.message)

    @app.exception_handler(UploadRefused)
    async def refused(request: Request, error: UploadRefused) -> Response:
        return _error_page(request, error.status, error.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "no such page" if error.status_code == 404 else str(error.detail)
        return _error_page(request, error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors())
        return _error_page(request, 422, f"the form is not complete: {problems}")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("content-security-policy", PAGE_POLICY)
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "same-origin"
        return response

    return app
