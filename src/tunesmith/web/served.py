"""What a running `tunesmith serve` is doing, read from it: its versions and traffic weights
(/admin/versions, with an admin key) and, from two readings of /metrics, each version's request
rate, error rate and latency over the time between them."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "tunesmith_requests"  # counter: route, status, version
LATENCY = "tunesmith_request_seconds"  # histogram: route, version


@dataclass
class Reading:
    at: float
    requests: dict[tuple[str, str], float] = field(default_factory=dict)  # (version, status) -> count
    latency_sum: dict[str, float] = field(default_factory=dict)  # version -> seconds
    latency_count: dict[str, float] = field(default_factory=dict)
    buckets: dict[str, dict[float, float]] = field(default_factory=dict)  # version -> le -> count


@dataclass(frozen=True)
class VersionLoad:
    version: str
    total: float  # requests since the server started
    rate: float  # requests a second over the window
    error_rate: float  # share of the window's requests that did not answer 200
    mean_ms: float | None
    p95_ms: float | None  # the upper edge of the bucket that holds the 95th percentile


@dataclass(frozen=True)
class ServedView:
    url: str
    versions: list[dict[str, Any]]  # /admin/versions' versions, each with its weight
    weights: dict[str, float]
    loads: list[VersionLoad]
    window_s: float
    problems: list[str]


def parse_metrics(text: str, at: float) -> Reading:
    reading = Reading(at)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            version = labels.get("version", "")
            if sample.name == f"{REQUESTS}_total":
                key = (version, labels.get("status", ""))
                reading.requests[key] = reading.requests.get(key, 0.0) + value
            elif sample.name == f"{LATENCY}_sum":
                reading.latency_sum[version] = reading.latency_sum.get(version, 0.0) + value
            elif sample.name == f"{LATENCY}_count":
                reading.latency_count[version] = reading.latency_count.get(version, 0.0) + value
            elif sample.name == f"{LATENCY}_bucket":
                edge = float(labels["le"])
                per = reading.buckets.setdefault(version, {})
                per[edge] = per.get(edge, 0.0) + value
    return reading


def _p95(before: dict[float, float], after: dict[float, float]) -> float | None:
    edges = sorted(after)
    counts = [after[e] - before.get(e, 0.0) for e in edges]  # cumulative counts in the window
    if not counts or counts[-1] <= 0:
        return None
    for edge, count in zip(edges, counts, strict=True):
        if count >= 0.95 * counts[-1]:
            return None if math.isinf(edge) else edge * 1000
    return None


def loads(before: Reading, after: Reading) -> list[VersionLoad]:
    window = max(1e-9, after.at - before.at)
    # "" is no model's: /metrics, /admin and health checks (this page's own readings among them)
    versions = sorted(({v for v, _ in after.requests} | set(after.latency_count)) - {""})
    found = []
    for version in versions:
        total = sum(n for (v, _), n in after.requests.items() if v == version)
        done = total - sum(n for (v, _), n in before.requests.items() if v == version)
        failed = sum(
            n - before.requests.get((v, s), 0.0)
            for (v, s), n in after.requests.items()
            if v == version and s != "200"
        )
        count = after.latency_count.get(version, 0.0) - before.latency_count.get(version, 0.0)
        seconds = after.latency_sum.get(version, 0.0) - before.latency_sum.get(version, 0.0)
        found.append(
            VersionLoad(
                version,
                total,
                done / window,
                failed / done if done else 0.0,
                1000 * seconds / count if count else None,
                _p95(before.buckets.get(version, {}), after.buckets.get(version, {})),
            )
        )
    return found


class ServedWatch:
    """Keeps the last /metrics reading so each look at the page shows the rate since the last."""

    def __init__(self, url: str, key: str | None, timeout: float = 5.0) -> None:
        self.url = url
        self.headers = {"authorization": f"Bearer {key}"} if key else {}
        self.timeout = timeout
        self._last: Reading | None = None
        self._lock = threading.Lock()

    def _read(self, client: httpx.Client) -> Reading:
        response = client.get(f"{self.url}/metrics", headers=self.headers)
        response.raise_for_status()
        return parse_metrics(response.text, time.monotonic())

    def look(self) -> ServedView:
        problems: list[str] = []
        versions: list[dict[str, Any]] = []
        weights: dict[str, float] = {}
        found: list[VersionLoad] = []
        window = 0.0
        with httpx.Client(timeout=self.timeout) as client:
            try:
                response = client.get(f"{self.url}/admin/versions", headers=self.headers)
                if response.status_code in (401, 403):
                    problems.append(
                        "versions and weights need a key with the admin scope: start the console with "
                        "--server-key-file FILE (or TUNESMITH_SERVER_KEY)"
                    )
                else:
                    response.raise_for_status()
                    state = response.json()
                    versions, weights = state.get("versions", []), state.get("weights", {})
                with self._lock:
                    before = self._last
                if before is None or time.monotonic() - before.at > 300:
                    before = self._read(client)
                    time.sleep(1.0)  # a first look: a one-second window
                after = self._read(client)
                with self._lock:
                    self._last = after
                found, window = loads(before, after), after.at - before.at
            except httpx.HTTPStatusError as error:
                problems.append(f"{error.request.url}: HTTP {error.response.status_code}")
            except (httpx.HTTPError, ValueError) as error:
                problems.append(f"{self.url}: cannot be read ({error})")
        for version in versions:
            version["weight"] = weights.get(version.get("name", ""), 0.0)
        return ServedView(self.url, versions, weights, found, window, problems)
