"""Where the record path runs: in this process, in worker processes on every core, or as Ray
tasks on a cluster. Each engine maps `RecordProcessor.process` over the batches and yields the
results in the order of the batches, with a bounded number in flight (memory stays flat however
long the input is); the stage merges them, so the output is the same whichever engine ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tunesmith.parallel import forked_map, ray_actor_map
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
    with forked_map(_process_batch, workers, _start_worker, (args,)) as run:
        yield run


class _RayProcessor:
    """A Ray actor holding one `RecordProcessor` (built once, then fed batches)."""

    def __init__(self, args: ProcessorArgs) -> None:
        self.processor = args.build()

    def process(self, batch: RecordBatch) -> BatchResult:
        return self.processor.process(batch)
