"""What every console page shares: the state the app holds (settings, access, queue, playground)
and `render`, which fills a template with who is signed in and what they may do. Routes import
this, never the app that mounts them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from tunesmith.web.access import Access
from tunesmith.web.jobs import JobQueue
from tunesmith.web.playground import Playground
from tunesmith.web.served import ServedWatch
from tunesmith.web.settings import ConsoleSettings


@dataclass
class ConsoleState:
    settings: ConsoleSettings
    access: Access
    queue: JobQueue
    playground: Playground
    served: ServedWatch | None
    templates: Jinja2Templates


def state_of(request: Request) -> ConsoleState:
    return request.app.state.console  # type: ignore[no-any-return]


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    state = state_of(request)
    return state.templates.TemplateResponse(
        request,
        template,
        {
            "who": state.access.who(request),
            "auth": state.access.required,
            "may_run": state.access.may(request, "run"),
            "served_on": state.settings.server_url,
            **context,
        },
        status_code=status,
    )
