"""What every route shares: pick the version, batch the texts, name the answer with a signed
request id, log it, and copy it to the shadow versions. Failures are `ServeError`s with the
status and message the client gets (never a 500 for a client's mistake)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith.runtime.predict import Example, InvalidExample
from tunesmith.serve.access_log import log, logged_texts
from tunesmith.serve.answer_log import AnswerLog
from tunesmith.serve.auth import ApiKey, KeyRing, RateLimiter, load_keys
from tunesmith.serve.batching import DeadlineExceeded, QueueFull
from tunesmith.serve.metrics import Metrics
from tunesmith.serve.safety import SafetyFilter
from tunesmith.serve.settings import ServeSettings
from tunesmith.serve.versions import Version, Versions


class ServeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        details: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}


@dataclass
class Answer:
    version: str
    request_id: str
    results: list[Any]  # per example: what the batcher's answer function gave


class Service:
    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        state_dir = Path(settings.state_dir)
        self.log = AnswerLog(state_dir)
        self.versions = Versions(settings, self.metrics, state_dir)
        self.keys = KeyRing(load_keys(settings.keys_file)) if settings.auth else None
        self.limiter = RateLimiter(settings.rate_limit, settings.workers)
        self.safety = SafetyFilter(settings.safety_list, state_dir)
        self._shadow_tasks: set[asyncio.Task[None]] = set()

    # -- access -------------------------------------------------------------------------------
    def authorize(self, header: str | None, scope: str) -> ApiKey | None:
        """The caller's key (None when keys are off); 401 without a key, 403 for a wrong key or
        scope, 429 over the key's rate."""
        if self.keys is None:
            return None
        key = self.keys.find(header)
        if key is None:
            raise ServeError(
                401,
                "missing API key",
                ["send the header 'Authorization: Bearer <key>'"],
                {"WWW-Authenticate": "Bearer"},
            )
        if key is False:
            raise ServeError(403, "unknown API key")
        assert isinstance(key, ApiKey)
        if not key.allows(scope):
            raise ServeError(403, f"the key '{key.name}' lacks the '{scope}' scope")
        wait = self.limiter.take(key)
        if wait:
            raise ServeError(
                429,
                f"rate limit of key '{key.name}' reached",
                [f"retry after {wait:g} s"],
                {"Retry-After": str(max(1, round(wait + 0.49)))},
            )
        return key

    # -- answers ------------------------------------------------------------------------------
    def version_for(self, sticky: str | None, pinned: str | None) -> Version:
        try:
            version = self.versions.choose(sticky, pinned)
        except KeyError:
            served = ", ".join(self.versions.served)
            raise ServeError(404, f"no version named {pinned!r}", [f"served versions: {served}"]) from None
        except LookupError as error:
            raise ServeError(503, "no version is ready", [str(error)], {"Retry-After": "5"}) from None
        if version.state != "ready":
            raise ServeError(
                503, f"version {version.name} is not ready", self.versions.not_ready(), {"Retry-After": "5"}
            )
        return version

    async def run(self, version: Version, kind: str, payloads: list[Any]) -> list[Any]:
        batcher = version.batchers.get(kind)
        if batcher is None:
            task = version.predictor.task.type if version.predictor else "?"
            raise ServeError(400, f"version {version.name} is a {task} model; it does not answer this route")
        if len(payloads) > self.settings.max_texts:
            raise ServeError(
                413,
                f"too many texts: {len(payloads)} sent, at most {self.settings.max_texts} per request",
                ["split the batch into several requests"],
            )
        try:
            return await batcher.submit(payloads, time.monotonic() + self.settings.timeout_s)
        except QueueFull as full:
            raise ServeError(
                503, "the server is busy", [str(full)], {"Retry-After": str(full.retry_after)}
            ) from None
        except DeadlineExceeded:
            raise ServeError(
                504, f"no answer within the deadline of {self.settings.timeout_s:g} s", ["try again later"]
            ) from None

    async def answer(
        self, version: Version, kind: str, payloads: list[Any], route: str, texts: list[str]
    ) -> Answer:
        """Answers of `version` (from `version_for`) for `payloads`; logged, copied to the shadows."""
        results = await self.run(version, kind, payloads)
        request_id = self.log.new_id(version.name)
        seen = [r[1]["text"] for r in results] if kind == "predict" else None
        record: dict[str, Any] = {"request_id": request_id, "version": version.name, "route": route}
        record |= logged_texts(self.settings.log_text, texts, seen)
        if kind == "predict":
            record["answers"] = [_summary(r[0]) for r in results]
        self.log.answer(record)
        for shadow in self.versions.ready_shadows():
            task = asyncio.get_running_loop().create_task(
                self._shadow(shadow, kind, payloads, request_id, route)
            )
            self._shadow_tasks.add(task)
            task.add_done_callback(self._shadow_tasks.discard)
        return Answer(version.name, request_id, results)

    async def _shadow(
        self, version: Version, kind: str, payloads: list[Any], request_id: str, route: str
    ) -> None:
        """A shadow's answer is logged beside the served one and goes nowhere else."""
        try:
            results = await self.run(version, kind, payloads)
        except Exception as error:  # a failing shadow never affects the served traffic
            self.metrics.shadow_errors.labels(version.name).inc()
            log("shadow failed", version=version.name, request_id=request_id, error=str(error))
            return
        record: dict[str, Any] = {
            "request_id": request_id,
            "version": version.name,
            "route": route,
            "shadow": True,
        }
        if kind == "predict":
            record["answers"] = [_summary(r[0]) for r in results]
        self.log.answer(record)

    def feedback(self, request_id: str, outcome: int) -> str:
        version = self.log.version_of(request_id)
        if version is None:
            raise ServeError(404, "unknown request id", ["send the request_id of an answer from this server"])
        self.log.feedback(request_id, version, outcome)
        return version


def _summary(prediction: dict[str, Any]) -> Any:
    """What the answer log keeps of an answer: its label, value or text, not every probability."""
    for key in ("label", "labels", "value", "answer", "text", "generated"):
        if key in prediction:
            return prediction[key]
    return {k: v for k, v in prediction.items() if not isinstance(v, dict | list)}


def check_examples(examples: list[Example], version: Version) -> None:
    """A request that lacks a field the task needs (a text, a row's column): 422 before it
    reaches a batch."""
    if version.predictor is None:
        return
    try:
        version.predictor.check(examples)
    except InvalidExample as error:
        raise ServeError(422, "invalid request", [str(error)]) from None
