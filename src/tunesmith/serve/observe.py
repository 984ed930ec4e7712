"""Pure ASGI middleware around every HTTP request: a request counter and latency histogram by
route, status and version, the in-flight gauge, and one JSON access-log line. (Pure ASGI: a
`BaseHTTPMiddleware` costs a task and a stream per request, a measurable share of a 3 ms answer.)"""

from __future__ import annotations

import time
from typing import Any

from tunesmith.serve.access_log import log
from tunesmith.serve.metrics import Metrics

QUIET = frozenset({"/metrics", "/health", "/ready", "/v2/health/live", "/v2/health/ready"})


class Observe:
    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def observed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, observed_send)
        finally:
            self.metrics.in_flight.dec()
            seconds = time.perf_counter() - started
            fields = scope.get("tunesmith", {})
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            version = fields.get("version") or ""
            self.metrics.requests.labels(path, str(status[0]), version).inc()
            self.metrics.latency.labels(path, version).observe(seconds)
            if scope["path"] not in QUIET or status[0] >= 400:
                log(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status[0],
                    ms=round(seconds * 1000, 2),
                    client=(scope.get("client") or ("", 0))[0],
                    **fields,
                )
