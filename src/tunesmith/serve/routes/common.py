"""Helpers every route module uses: the service of the app, and the caller's key."""

from __future__ import annotations

from typing import Any

from fastapi import Request, WebSocket

from tunesmith.serve.service import Service

VERSION_HEADER = "x-model-version"


def service_of(request: Request | WebSocket) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def authorized(request: Request | WebSocket, scope: str) -> Any:
    key = service_of(request).authorize(request.headers.get("authorization"), scope)
    request.scope.setdefault("tunesmith", {})["key"] = key.name if key else None
    return key


def sticky_of(request: Request | WebSocket) -> str | None:
    header = service_of(request).settings.sticky_header
    return request.headers.get(header) if header else None


def note(request: Request | WebSocket, **fields: Any) -> None:
    """Fields for this request's access log line and metrics (version, request id ...)."""
    request.scope.setdefault("tunesmith", {}).update(fields)
