"""Prometheus metrics of a server (prometheus-client): requests by route, status and version,
latency, queue wait, batch size, queue depth, in-flight requests, model load time, and the
process metrics. With several workers, prometheus-client's multiprocess mode adds up the workers'
figures (PROMETHEUS_MULTIPROC_DIR, set by `tunesmith serve` before any worker starts)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The server's metrics, on their own registry (two apps in one process do not collide)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        registry = None if self.multiprocess else self.registry
        self.requests = Counter(
            "tunesmith_requests", "Requests answered.", ["route", "status", "version"], registry=registry
        )
        self.latency = Histogram(
            "tunesmith_request_seconds",
            "Time to answer a request.",
            ["route", "version"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.queue_wait = Histogram(
            "tunesmith_queue_wait_seconds",
            "Time a text waited before its batch ran.",
            ["version"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "tunesmith_batch_size",
            "Texts per model call.",
            ["version"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "tunesmith_queue_depth",
            "Texts waiting.",
            ["version"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.in_flight = Gauge(
            "tunesmith_in_flight_requests",
            "Requests being answered.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.load_seconds = Gauge(
            "tunesmith_model_load_seconds",
            "Time to load and verify a version.",
            ["version"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.answers = Counter(
            "tunesmith_kb_answers",
            "POST /v1/answer replies by status (answered, handed_over, refused).",
            ["version", "status"],
            registry=registry,
        )
        self.filtered = Counter(
            "tunesmith_safety_filtered",
            "Texts the safety filter changed, by stage (question, answer) and action.",
            ["stage", "action"],
            registry=registry,
        )
        self.shadow_errors = Counter(
            "tunesmith_shadow_errors", "Shadow answers that failed.", ["version"], registry=registry
        )
        if self.multiprocess:
            from prometheus_client import multiprocess

            _forget_dead_workers(multiprocess)
            multiprocess.MultiProcessCollector(self.registry)
        ProcessCollector(registry=self.registry)  # this worker's CPU, memory and open files

    def for_version(self, version: str) -> VersionMetrics:
        return VersionMetrics(self, version)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _forget_dead_workers(multiprocess: Any) -> None:
    """A replaced worker's live gauges (queue depth, in flight) leave the sums."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    for file in folder.glob("gauge_live*_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, str(folder))
        except PermissionError:
            continue


class VersionMetrics:
    """What one version's batcher reports (implements `batching.BatchObserver`)."""

    def __init__(self, metrics: Metrics, version: str) -> None:
        self._size = metrics.batch_size.labels(version)
        self._wait = metrics.queue_wait.labels(version)
        self._depth = metrics.queue_depth.labels(version)

    def batch(self, size: int, waits: Sequence[float]) -> None:
        self._size.observe(size)
        for wait in waits:
            self._wait.observe(wait)

    def depth(self, waiting: int) -> None:
        self._depth.set(waiting)
