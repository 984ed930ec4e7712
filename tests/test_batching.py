"""The batcher on its own, with a slow answer function standing in for the model (it is the
batcher that is tested: the same code runs the model in the server)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from tunesmith.serve.batching import Batcher, DeadlineExceeded, QueueFull, buckets


class Recorder:
    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, payloads: list[str]) -> list[str]:
        time.sleep(self.seconds)
        with self.lock:
            self.batches.append(list(payloads))
        return [p.upper() for p in payloads]


class Observer:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def batch(self, size: int, waits: Sequence[float]) -> None:
        self.sizes.append(size)

    def depth(self, waiting: int) -> None:
        pass


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def test_concurrent_texts_share_batches_sorted_by_length_and_answers_keep_order() -> None:
    model, observer = Recorder(0.02), Observer()

    async def main() -> list[list[str]]:
        batcher = Batcher(model, max_batch_size=8, max_wait_ms=0, max_queue=100, observer=observer)
        batcher.start()
        deadline = time.monotonic() + 10
        texts = [["a" * (i % 5 + 1), "b" * (7 - i % 5)] for i in range(12)]
        answers = await asyncio.gather(*(batcher.submit(t, deadline) for t in texts))
        await batcher.close()
        return answers

    answers = run(main())
    assert answers == [["A" * (i % 5 + 1), "B" * (7 - i % 5)] for i in range(12)]
    assert max(observer.sizes) == 8 and sum(observer.sizes) == 24  # 24 texts in batches of up to 8
    assert all(b == sorted(b, key=len) for b in model.batches)


def test_waits_up_to_max_wait_for_a_batch_to_fill() -> None:
    model = Recorder()

    async def main() -> None:
        batcher = Batcher(model, max_batch_size=4, max_wait_ms=200, max_queue=100)
        batcher.start()
        deadline = time.monotonic() + 10
        first = asyncio.create_task(batcher.submit(["x"], deadline))
        await asyncio.sleep(0.05)
        await asyncio.gather(first, batcher.submit(["y", "z"], deadline))
        await batcher.close()

    run(main())
    assert model.batches == [["x", "y", "z"]]


def test_a_full_queue_refuses_at_once_and_a_late_request_times_out() -> None:
    model = Recorder(0.3)

    async def main() -> None:
        batcher = Batcher(model, max_batch_size=1, max_wait_ms=0, max_queue=2)
        batcher.start()
        far = time.monotonic() + 10
        running = asyncio.create_task(batcher.submit(["busy"], far))
        await asyncio.sleep(0.05)  # "busy" is in the model; the queue holds two more
        late = asyncio.create_task(batcher.submit(["late"], time.monotonic() + 0.1))
        queued = asyncio.create_task(batcher.submit(["q1"], far))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull) as full:
            await batcher.submit(["one more"], far)
        assert not running.done() and full.value.retry_after >= 1  # refused while the model is busy
        with pytest.raises(DeadlineExceeded):
            await late  # its deadline passes while "busy" runs
        assert await running == ["BUSY"] and await queued == ["Q1"]
        await batcher.close()

    run(main())
    assert ["late"] not in model.batches  # a request that gave up leaves nothing for the model


def test_close_finishes_every_accepted_text() -> None:
    model = Recorder(0.05)

    async def main() -> list[list[str]]:
        batcher = Batcher(model, max_batch_size=2, max_wait_ms=0, max_queue=100)
        batcher.start()
        deadline = time.monotonic() + 10
        tasks = [asyncio.create_task(batcher.submit([f"t{i}"], deadline)) for i in range(6)]
        await asyncio.sleep(0)
        await batcher.close()
        return [await t for t in tasks]

    assert run(main()) == [[f"T{i}"] for i in range(6)]


def test_a_batch_of_short_and_long_texts_is_cut_where_padding_costs_more_than_a_call() -> None:
    assert buckets([12] * 10, overhead=300) == [(0, 10)]  # alike: one call
    assert buckets([10] * 8 + [400] * 8, overhead=300) == [(0, 8), (8, 16)]  # 8 x 390 padded > 300
    assert buckets([10] * 8 + [40] * 8, overhead=300) == [(0, 16)]  # 8 x 30 padded < 300
    assert buckets([], overhead=300) == []
    model = Recorder(0.0)

    async def main() -> list[list[str]]:
        batcher = Batcher(model, max_batch_size=16, max_wait_ms=100, max_queue=100)
        batcher.start()
        deadline = time.monotonic() + 10
        texts = [["x" * (500 if i % 2 else 5)] for i in range(16)]
        answers = await asyncio.gather(*(batcher.submit(t, deadline) for t in texts))
        await batcher.close()
        return answers

    answers = run(main())
    assert answers == [["X" * (500 if i % 2 else 5)] for i in range(16)]
    assert sorted(len(b) for b in model.batches) == [8, 8]  # one window, two calls: short, then long
    assert [{len(t) for t in b} for b in model.batches] == [{5}, {500}]
