"""The process's compute-thread budget, shared by PyTorch, onnxruntime and LightGBM: a server with
several workers sets it so that workers x threads fit the cores. Kept here, not in torch, so that
a process answering with onnxruntime never imports torch to learn it."""

from __future__ import annotations

import os
import sys

_budget: int | None = None


def compute_threads() -> int:
    """The threads one model call may use: what `set_compute_threads` set, else the cores this
    process may run on."""
    return _budget if _budget is not None else usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; all of them off Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def set_compute_threads(threads: int) -> None:
    """Set the budget, and PyTorch's own pool when PyTorch is loaded (it is not imported here)."""
    global _budget
    _budget = max(1, threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(_budget)
