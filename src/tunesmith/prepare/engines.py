"""Where the record path runs: in this process, in worker processes on every core, or as Ray
tasks on a cluster. Each engine maps `RecordProcessor.process` over the batches and yields the
results in the order of the batches, with a bounded number in flight (memory stays flat however
long the input is); the stage merges them, so the output is the same whichever engine ran.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tunesmith.errors import RecipeError
from tunesmith.prepare.records import BatchResult, RecordBatch, RecordProcessor
from tunesmith.recipe import Recipe

SMALL_INPUT = 8_000_000  # bytes: below this, starting worker processes costs more than it saves
IN_FLIGHT = 2  # batches queued per worker: one running, one waiting


@dataclass(frozen=True)
class ProcessorArgs:
    """What every worker builds its `RecordProcessor` from (sent once, not with each batch)."""

    recipe: Recipe
    keys: tuple[bytes | None, bytes]
    kept_fields: list[str]
    dedup: bool

    def build(self) -> RecordProcessor:
        return RecordProcessor(self.recipe, self.keys, self.kept_fields, self.dedup)


def worker_count(recipe: Recipe, input_bytes: int) -> int:
    """`prepare.workers` as a number: auto is the cores this process may use (one for a small input)."""
    wanted = recipe.prepare.workers
    if wanted != "auto":
        return int(wanted)
    if input_bytes < SMALL_INPUT and recipe.prepare.engine == "local":
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def open_engine(
    recipe: Recipe, args: ProcessorArgs, workers: int
) -> Iterator[Callable[[Iterator[RecordBatch]], Iterator[BatchResult]]]:
    """A function that maps the record path over batches, on the recipe's engine."""
    if recipe.prepare.engine == "ray":
        with _ray_engine(recipe, args, workers) as run:
            yield run
    elif workers == 1:
        processor = args.build()
        yield lambda batches: (processor.process(batch) for batch in batches)
    else:
        with _process_engine(args, workers) as run:
            yield run


def _in_order(
    submit: Callable[[RecordBatch], Any], wait: Callable[[Any], BatchResult], limit: int
) -> Callable[[Iterator[RecordBatch]], Iterator[BatchResult]]:
    """Submit batches while fewer than `limit` are pending; yield results in submission order."""

    def run(batches: Iterator[RecordBatch]) -> Iterator[BatchResult]:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(submit(batch))
            if len(pending) >= limit:
                yield wait(pending.popleft())
        while pending:
            yield wait(pending.popleft())

    return run


_PROCESSOR: RecordProcessor | None = None  # set in each worker process by _start_worker


def _start_worker(args: ProcessorArgs) -> None:
    global _PROCESSOR
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # numpy in a worker: one thread per process
    _PROCESSOR = args.build()


def _process_batch(batch: RecordBatch) -> BatchResult:
    assert _PROCESSOR is not None, "worker started without _start_worker"
    return _PROCESSOR.process(batch)


@contextmanager
def _process_engine(
    args: ProcessorArgs, workers: int
) -> Iterator[Callable[[Iterator[RecordBatch]], Iterator[BatchResult]]]:
    import multiprocessing

    # fork, as torch's DataLoader does on Linux: the workers start at once with the modules this
    # process has loaded. spawn and forkserver would run the caller's script again in every worker
    # (a script without a __main__ guard would prepare recursively). The workers are forked here,
    # before the progress bar starts its thread, so no lock is held by a thread at the fork.
    context = multiprocessing.get_context("fork")
    start = {"initializer": _start_worker, "initargs": (args,)}
    with ProcessPoolExecutor(workers, mp_context=context, **start) as pool:
        pool.submit(os.getpid).result()  # a fork context starts every worker on the first submit

        def submit(batch: RecordBatch) -> Future[BatchResult]:
            return pool.submit(_process_batch, batch)

        yield _in_order(submit, lambda future: future.result(), workers * IN_FLIGHT)


@contextmanager
def _ray_engine(
    recipe: Recipe, args: ProcessorArgs, workers: int
) -> Iterator[Callable[[Iterator[RecordBatch]], Iterator[BatchResult]]]:
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise RecipeError(
            "prepare.engine: ray needs Ray: pip install 'tunesmith[ray]' (or set prepare.engine: local)"
        ) from None
    address = recipe.prepare.ray_address
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        if address:
            options["address"] = address
        else:  # a Ray of our own on this machine (its local mode): the worker count is the CPUs
            options.update(num_cpus=workers, include_dashboard=False)
        ray.init(**options)
    try:
        if address:
            workers = max(1, int(ray.cluster_resources().get("CPU", workers)))
        actor = ray.remote(num_cpus=1)(_RayProcessor)
        shared = ray.put(args)
        pool = ActorPool([actor.remote(shared) for _ in range(workers)])

        def submit(batch: RecordBatch) -> None:
            pool.submit(lambda worker, value: worker.process.remote(value), batch)

        yield _in_order(submit, lambda _: pool.get_next(), workers * IN_FLIGHT)
    finally:
        if started:
            ray.shutdown()


class _RayProcessor:
    """A Ray actor holding one `RecordProcessor` (built once, then fed batches)."""

    def __init__(self, args: ProcessorArgs) -> None:
        self.processor = args.build()

    def process(self, batch: RecordBatch) -> BatchResult:
        return self.processor.process(batch)
