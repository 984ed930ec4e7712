"""Work spread over processes, results taken back in order: the bounded ordered map every engine
uses, a Ray session (a cluster's address, or a Ray of our own on this machine), and a map over
Ray actors that each hold their own state (a record processor, a loaded model)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tunesmith.errors import RecipeError

Item = TypeVar("Item")
Result = TypeVar("Result")
IN_FLIGHT = 2  # batches queued per worker: one running, one waiting


def in_order(
    submit: Callable[[Item], Any], wait: Callable[[Any], Result], limit: int
) -> Callable[[Iterable[Item]], Iterator[Result]]:
    """Submit items while fewer than `limit` are pending; yield results in submission order (so
    memory is bounded however long the input, and the caller merges as one process would)."""

    def run(items: Iterable[Item]) -> Iterator[Result]:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(submit(item))
            if len(pending) >= limit:
                yield wait(pending.popleft())
        while pending:
            yield wait(pending.popleft())

    return run


@contextmanager
def forked_map(
    function: Callable[[Any], Any],
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[Callable[[Iterable[Any]], Iterator[Any]]]:
    """A function that maps `function` over items on `workers` forked processes, results in
    order, a bounded number in flight. `initializer(*initargs)` runs once in each worker; with
    fork, `initargs` reach it without pickling (a lazy column of a file, a built processor).

    fork, as torch's DataLoader does on Linux: the workers start at once with the modules this
    process has loaded. spawn and forkserver would run the caller's script again in every worker
    (a script without a __main__ guard would run recursively). The workers are forked before the
    caller starts a progress bar's thread, so no lock is held by a thread at the fork."""
    import gc
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs)
    gc.freeze()  # the objects alive at the fork stay out of the workers' collections: fewer copied pages
    try:
        pool.submit(os.getpid).result()  # a fork context starts every worker on the first submit
    finally:
        gc.unfreeze()
    with pool:
        yield in_order(
            lambda item: pool.submit(function, item), lambda future: future.result(), workers * IN_FLIGHT
        )


@contextmanager
def ray_session(address: str | None, cpus: int) -> Iterator[Any]:
    """The `ray` module, connected to the cluster at `address`, or to a Ray started here with
    `cpus` CPUs (Ray's local mode; stopped on exit). An existing connection is reused."""
    try:
        import ray
    except ImportError:
        raise RecipeError("the ray engine needs Ray: pip install 'tunesmith[ray]'") from None
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        if address:
            options["address"] = address
        else:
            options.update(num_cpus=cpus, include_dashboard=False)
        ray.init(**options)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


@contextmanager
def ray_actor_map(
    address: str | None, workers: int, actor_class: type, init_args: tuple[Any, ...], method: str
) -> Iterator[Callable[[Iterable[Any]], Iterator[Any]]]:
    """A function that calls `method` of `actor_class` actors (built once each from `init_args`)
    on every item, results in order: `workers` actors on a Ray of our own, or one per CPU of the
    cluster at `address`."""
    with ray_session(address, workers) as ray:
        from ray.util import ActorPool

        if address:
            workers = max(1, int(ray.cluster_resources().get("CPU", workers)))
        actor = ray.remote(num_cpus=1)(actor_class)
        shared = [ray.put(value) for value in init_args]  # sent to the object store once, not per actor
        pool = ActorPool([actor.remote(*shared) for _ in range(workers)])

        def submit(item: Any) -> None:
            pool.submit(lambda worker, value: getattr(worker, method).remote(value), item)

        yield in_order(submit, lambda _: pool.get_next(), workers * IN_FLIGHT)
