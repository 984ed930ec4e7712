"""Dynamic batching: texts from concurrent requests are gathered into a batch of at most
`max_batch_size` texts, waiting at most `max_wait_ms` for it to fill. The batch is sorted by
length and cut into buckets where a bucket of short texts would otherwise be padded to a long
one (`buckets`: the cut that costs least, each model call counted as `overhead` length units
plus its texts times its longest); each bucket is one model call, answered as soon as it is done.
The queue is bounded (a full queue refuses at once: 503) and every request has a deadline (504).
Hand-written: the model call is ours (tokenize, run, decode for any task), and the serving
libraries that batch (BentoML, Ray Serve, Triton) bring a whole server with them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

# What one model call costs beyond its texts, in characters of padded text: with MiniLM in ONNX
# on 2 cores, a call's fixed cost is about the work of 300 characters more in the batch
# (benchmarks/serve_load.py --serve-args=--no-buckets measures the gain).
CALL_OVERHEAD = 300


def buckets(lengths: Sequence[int], overhead: float = CALL_OVERHEAD) -> list[tuple[int, int]]:
    """Cut `lengths` (sorted, shortest first) into runs [start, end) minimising the sum over runs
    of `overhead + count * longest`: the padded work of each model call plus its fixed cost.
    Exact dynamic programming over the cut points (a batch holds tens of texts)."""
    count = len(lengths)
    best = [0.0] + [float("inf")] * count  # best[i]: the cheapest cut of the first i
    cut = [0] * (count + 1)
    for end in range(1, count + 1):
        longest = lengths[end - 1]
        for start in range(end):
            cost = best[start] + overhead + (end - start) * longest
            if cost < best[end]:
                best[end], cut[end] = cost, start
    runs = []
    end = count
    while end > 0:
        runs.append((cut[end], end))
        end = cut[end]
    return runs[::-1]


class QueueFull(Exception):
    """More texts wait than the queue holds: come back after `retry_after` seconds."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"{waiting} texts are waiting; try again in {retry_after} s")
        self.retry_after = retry_after


class DeadlineExceeded(Exception):
    """The request's deadline passed before its answers were ready."""


class BatchObserver(Protocol):
    def batch(self, size: int, waits: Sequence[float]) -> None: ...

    def depth(self, waiting: int) -> None: ...


@dataclass
class _Item:
    payload: Any
    future: asyncio.Future[Any]
    enqueued: float
    deadline: float
    weight: int = field(default=1)


class Batcher:
    """Runs `answer(payloads) -> results` (one result per payload, in order) on batches, one
    batch at a time in a worker thread, from an asyncio event loop."""

    def __init__(
        self,
        answer: Callable[[list[Any]], list[Any]],
        max_batch_size: int,
        max_wait_ms: float,
        max_queue: int,
        observer: BatchObserver | None = None,
        length: Callable[[Any], int] = lambda payload: len(str(payload)),
        overhead: float | None = CALL_OVERHEAD,
    ) -> None:
        """`overhead`: a model call's fixed cost in length units, for cutting a batch into buckets
        (None: one model call per batch)."""
        self.answer = answer
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.observer = observer
        self.length = length
        self.overhead = overhead
        self._pending: deque[_Item] = deque()
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._seconds_per_text = 0.01  # running estimate, for Retry-After
        self.in_model = 0

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def close(self) -> None:
        """Finish every accepted text, then stop."""
        self._closing = True
        self._arrived.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def submit(self, payloads: Sequence[Any], deadline: float) -> list[Any]:
        """Answers for `payloads`, in order; QueueFull at once when they do not fit in the queue,
        DeadlineExceeded when `deadline` (time.monotonic()) passes first."""
        if self._closing:
            raise QueueFull(len(self._pending), 1)
        if len(self._pending) + len(payloads) > self.max_queue:
            backlog = (len(self._pending) + self.in_model) * self._seconds_per_text
            raise QueueFull(len(self._pending), max(1, round(backlog + 0.5)))
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        items = [_Item(p, loop.create_future(), now, deadline) for p in payloads]
        self._pending.extend(items)
        self._report_depth()
        self._arrived.set()
        try:
            return list(
                await asyncio.wait_for(asyncio.gather(*(i.future for i in items)), max(0.0, deadline - now))
            )
        except TimeoutError:
            raise DeadlineExceeded from None
        finally:
            for item in items:  # a request that gave up leaves nothing for the model to do
                if not item.future.done():
                    item.future.cancel()

    def _report_depth(self) -> None:
        if self.observer is not None:
            self.observer.depth(len(self._pending))

    async def _next_batch(self) -> list[_Item]:
        """Wait for a first text, then until the batch is full or the first text has waited
        `max_wait`; texts whose request gave up are dropped."""
        while True:
            while not self._pending:
                if self._closing:
                    return []
                self._arrived.clear()
                await self._arrived.wait()
            first = self._pending[0]
            while len(self._pending) < self.max_batch_size and not self._closing:
                left = first.enqueued + self.max_wait - time.monotonic()
                if left <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    break
            batch: list[_Item] = []
            now = time.monotonic()
            while self._pending and len(batch) < self.max_batch_size:
                item = self._pending.popleft()
                if item.future.done():
                    continue
                if item.deadline <= now:
                    item.future.set_exception(DeadlineExceeded())
                    continue
                batch.append(item)
            self._report_depth()
            if batch:
                return batch

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            if not batch:
                return
            lengths = [self.length(item.payload) for item in batch]
            order = sorted(range(len(batch)), key=lengths.__getitem__)
            batch = [batch[i] for i in order]
            whole = [(0, len(batch))]
            cuts = whole if self.overhead is None else buckets([lengths[i] for i in order], self.overhead)
            for start, end in cuts:
                await self._call(batch[start:end])

    async def _call(self, batch: list[_Item]) -> None:
        """One model call for `batch`; its requests get their answers, or its error."""
        started = time.monotonic()
        if self.observer is not None:
            self.observer.batch(len(batch), [started - item.enqueued for item in batch])
        self.in_model = len(batch)
        try:
            results = await asyncio.get_running_loop().run_in_executor(
                self._executor, self.answer, [i.payload for i in batch]
            )
        except Exception as error:  # a failed batch fails its requests, never the batcher
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        finally:
            self.in_model = 0
        took = (time.monotonic() - started) / len(batch)
        self._seconds_per_text = 0.8 * self._seconds_per_text + 0.2 * took
        for item, result in zip(batch, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)
