"""The versions a server answers with, and which one answers a request.

A version is a run folder loaded in the background (the server is up and says why it is not
ready while a model loads or when it failed to), with its own batcher. The router picks a version
by weight - per request, or sticky per user by hashing a header - and keeps the shadow versions,
which get a copy of the traffic and never answer. Weights and added versions live in
`routing.json` in the state folder, so an admin change made on one worker reaches every worker
within a second. `tunesmith serve` writes it afresh at start: the command line's split wins.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.errors import TunesmithError
from tunesmith.runtime.predict import Example, Predictor, example_text
from tunesmith.serve.batching import CALL_OVERHEAD, Batcher
from tunesmith.serve.metrics import Metrics
from tunesmith.serve.settings import ServeSettings

ROUTING_FILE = "routing.json"


def write_routing(
    path: Path, weights: dict[str, float], history: list[dict[str, float]], added: dict[str, str]
) -> None:
    atomic.write_json(path, {"weights": weights, "history": history[-20:], "added": added})


@dataclass
class Version:
    name: str
    run_dir: Path
    shadow: bool = False
    state: str = "loading"  # loading | ready | failed
    reason: str = ""
    predictor: Predictor | None = None
    batchers: dict[str, Batcher] = field(default_factory=dict)
    load_seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"name": self.name, "run": str(self.run_dir), "state": self.state}
        if self.shadow:
            info["shadow"] = True
        if self.reason:
            info["reason"] = self.reason
        if self.predictor is not None:
            info |= {"task": self.predictor.task.type, "backend": self.predictor.backend}
        return info


def _answer_examples(predictor: Predictor) -> Any:
    """(answer, the example as the model saw it: cleaned and de-identified) per raw example."""

    def answer(examples: list[Example]) -> list[tuple[dict[str, Any], Example]]:
        seen = predictor.model_input(examples)
        return list(zip(predictor.predict(seen, batch_size=len(seen)), seen, strict=True))

    return answer


def _answer_embeddings(predictor: Predictor) -> Any:
    def answer(texts: list[str]) -> list[list[float]]:
        cleaned = [e["text"] for e in predictor.model_input(texts)]
        vectors = predictor.task.embeddings(predictor, cleaned, len(cleaned))  # type: ignore[attr-defined]
        return vectors.tolist()

    return answer


class Versions:
    """Every version of the server, the traffic weights, and the routing decision."""

    def __init__(self, settings: ServeSettings, metrics: Metrics, state_dir: Path) -> None:
        self.settings = settings
        self.metrics = metrics
        self.routing_file = state_dir / ROUTING_FILE
        self.served: dict[str, Version] = {n: Version(n, Path(p)) for n, p in settings.runs.items()}
        self.shadows: dict[str, Version] = {
            n: Version(n, Path(p), shadow=True) for n, p in settings.shadow.items()
        }
        self.rewriter = Version("rewriter", Path(settings.rewriter)) if settings.rewriter else None
        self.weights = settings.weights
        self.history: list[dict[str, float]] = []
        self._routing_mtime = 0.0
        self._checked = 0.0
        self._loads: set[asyncio.Task[None]] = set()

    # -- loading -------------------------------------------------------------------------------
    def all(self) -> list[Version]:
        """Served, shadow and helper versions (the rewriter of knowledge-base answers)."""
        helpers = [self.rewriter] if self.rewriter else []
        return [*self.served.values(), *self.shadows.values(), *helpers]

    def start_loading(self) -> None:
        self._read_routing(force=True)
        for version in self.all():
            self._load_later(version)

    def _load_later(self, version: Version) -> None:
        task = asyncio.get_running_loop().create_task(self._load(version))
        self._loads.add(task)
        task.add_done_callback(self._loads.discard)

    async def _load(self, version: Version) -> None:
        started = time.monotonic()
        try:
            predictor = await asyncio.to_thread(
                Predictor.from_run, version.run_dir, True, self.settings.backend
            )
        except Exception as error:  # the server stays up and says why this version is not ready
            version.state, version.reason = "failed", f"{type(error).__name__}: {error}"
            return
        version.load_seconds = time.monotonic() - started
        self.metrics.load_seconds.labels(version.name).set(version.load_seconds)
        observer = self.metrics.for_version(version.name)
        s = self.settings
        version.batchers["predict"] = Batcher(
            _answer_examples(predictor),
            s.max_batch_size,
            s.max_wait_ms,
            s.max_queue,
            observer,
            length=lambda example: len(example_text(example)),
            overhead=CALL_OVERHEAD if s.buckets else None,
        )
        if hasattr(predictor.task, "embeddings"):
            version.batchers["embed"] = Batcher(
                _answer_embeddings(predictor),
                s.max_batch_size,
                s.max_wait_ms,
                s.max_queue,
                observer,
                length=len,
            )
        for batcher in version.batchers.values():
            batcher.start()
        version.predictor = predictor
        version.state = "ready"

    async def wait_loaded(self) -> None:
        while self._loads:
            await asyncio.gather(*list(self._loads), return_exceptions=True)

    async def close(self) -> None:
        for version in self.all():
            for batcher in version.batchers.values():
                await batcher.close()

    def not_ready(self) -> list[str]:
        """Why the server is not ready: one line per served version that is not."""
        return [
            f"{v.name}: {v.reason}" if v.state == "failed" else f"{v.name}: loading"
            for v in self.served.values()
            if v.state != "ready" and self.weights.get(v.name, 0) > 0
        ]

    # -- routing -------------------------------------------------------------------------------
    def choose(self, sticky: str | None, pinned: str | None) -> Version:
        """The version that answers: `pinned` when asked for, else by weight (the same one for the
        same sticky value while the weights stay)."""
        self._read_routing()
        if pinned is not None:
            if pinned not in self.served:
                raise KeyError(pinned)
            return self.served[pinned]
        names = [n for n in self.served if self.weights.get(n, 0) > 0 and self.served[n].state == "ready"]
        if not names:
            raise LookupError("; ".join(self.not_ready()) or "no version has traffic")
        total = sum(self.weights[n] for n in names)
        if sticky is not None:
            digest = hashlib.sha256(sticky.encode("utf-8")).digest()
            point = int.from_bytes(digest[:8], "big") / 2**64 * total
        else:
            point = random.random() * total
        for name in names:
            point -= self.weights[name]
            if point < 0:
                return self.served[name]
        return self.served[names[-1]]

    def ready_shadows(self) -> list[Version]:
        return [v for v in self.shadows.values() if v.state == "ready"]

    # -- admin ----------------------------------------------------------------------------------
    def set_weights(self, weights: dict[str, float]) -> None:
        unknown = sorted(set(weights) - set(self.served))
        if unknown:
            raise TunesmithError(
                f"no served version named {', '.join(unknown)} (have {', '.join(self.served)})"
            )
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise TunesmithError("weights must not be negative and must add up to more than 0")
        cold = [n for n, w in weights.items() if w > 0 and self.served[n].state != "ready"]
        if cold:
            raise TunesmithError(f"version {', '.join(cold)} is not ready; wait until it is, or fix it")
        self.history.append(dict(self.weights))
        self.weights = {n: float(weights.get(n, 0.0)) for n in self.served}
        self._write_routing()

    def rollback(self) -> dict[str, float]:
        if not self.history:
            raise TunesmithError("nothing to roll back: the weights have not been changed")
        self.weights = self.history.pop()
        self._write_routing()
        return self.weights

    async def add(self, name: str, run_dir: Path) -> Version:
        """Load and verify a run as a new version with weight 0; the caller routes to it after."""
        if name in self.served or name in self.shadows:
            raise TunesmithError(f"a version named {name!r} exists")
        if not (run_dir / "manifest.json").is_file():
            raise TunesmithError(f"{run_dir}: not a finished run (no manifest.json)")
        version = Version(name, run_dir)
        await self._load(version)
        if version.state != "ready":
            raise TunesmithError(f"{name}: {version.reason}")
        self.served[name] = version
        self.weights[name] = 0.0
        self._write_routing()
        return version

    def _write_routing(self) -> None:
        added = {n: str(v.run_dir) for n, v in self.served.items() if n not in self.settings.runs}
        write_routing(self.routing_file, self.weights, self.history, added)
        self._routing_mtime = self.routing_file.stat().st_mtime

    def _read_routing(self, force: bool = False) -> None:
        """Take up another worker's change (checked at most once a second)."""
        now = time.monotonic()
        if not force and now - self._checked < 1.0:
            return
        self._checked = now
        try:
            mtime = self.routing_file.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._routing_mtime:
            return
        self._routing_mtime = mtime
        data = json.loads(self.routing_file.read_text(encoding="utf-8"))
        for name, path in data.get("added", {}).items():
            if name not in self.served:
                self.served[name] = Version(name, Path(path))
                self._load_later(self.served[name])
        self.weights = {n: float(data.get("weights", {}).get(n, 0.0)) for n in self.served}
        if not any(self.weights.values()):
            self.weights = self.settings.weights
        self.history = [dict(h) for h in data.get("history", [])]
