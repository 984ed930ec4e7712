"""Where the record path runs: in this process, in worker processes on every core, or as Ray
tasks on a cluster. Each engine maps `RecordProcessor.process` over the batches and yields the
results in the order of the batches, with a bounded number in flight (memory stays flat however
long the input is); the stage merges them, so the output is the same whichever engine ran.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from tunesmith.parallel import IN_FLIGHT, in_order, ray_actor_map
from tunesmith.prepare.records import BatchResult, RecordBatch, RecordProcessor
from tunesmith.recipe import Recipe
from tunesmith.threads import usable_cores

SMALL_INPUT = 8_000_000  # bytes: below this, starting worker processes costs more than it saves


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
    return usable_cores()


@contextmanager
def open_engine(
    recipe: Recipe, args: ProcessorArgs, workers: int
) -> Iterator[Callable[[Iterator[RecordBatch]], Iterator[BatchResult]]]:
    """A function that maps the record path over batches, on the recipe's engine."""
    if recipe.prepare.engine == "ray":
        with ray_actor_map(recipe.prepare.ray_address, workers, _RayProcessor, (args,), "process") as run:
            yield run
    elif workers == 1:
        processor = args.build()
        yield lambda batches: (processor.process(batch) for batch in batches)
    else:
        with _process_engine(args, workers) as run:
            yield run


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
    pool = ProcessPoolExecutor(workers, mp_context=context, **start)
    gc.freeze()  # the objects alive at the fork stay out of the workers' collections: fewer copied pages
    try:
        pool.submit(os.getpid).result()  # a fork context starts every worker on the first submit
    finally:
        gc.unfreeze()
    with pool:

        def submit(batch: RecordBatch) -> Future[BatchResult]:
            return pool.submit(_process_batch, batch)

        yield in_order(submit, lambda future: future.result(), workers * IN_FLIGHT)


class _RayProcessor:
    """A Ray actor holding one `RecordProcessor` (built once, then fed batches)."""

    def __init__(self, args: ProcessorArgs) -> None:
        self.processor = args.build()

    def process(self, batch: RecordBatch) -> BatchResult:
        return self.processor.process(batch)
