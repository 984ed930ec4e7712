"""The time limit init writes (`training.time_limit`), and what it buys on this machine.

About 20 minutes on CPU cores, an hour with a GPU: the fast learners take seconds, and the
transformer gets the rest. What that buys is estimated from the data's size - the optimizer steps
the transformer's auto epochs plan, the tokens a step reads - and this machine's speed: a short
matrix product timed now, scaled by the share of it a training step reaches (measured on the
packaged models here). The run measures a real step before it trains and keeps to the limit;
this estimate only says, in the recipe, roughly how much of the transformer's plan will fit.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CPU_LIMIT = 20 * 60
GPU_LIMIT = 60 * 60
BATCH = 32  # init's batch_size
PADDING = 1.3  # a batch is padded to its longest text
# A fine-tuning step: 6 FLOPs per parameter (word embeddings aside) and token at this multiple of
# numpy's float32 matrix-product rate (PyTorch's kernels beat numpy's on these shapes), plus a
# fixed cost (the optimizer's update, collation) at a 170-GFLOPS machine. Fitted here to two
# measured runs on 2 cores: multilingual-E5 on MuZhi, 1.35 s a step of 32 records of ~31 tokens;
# MiniLM on banking77, ~0.8 s a step of ~18 tokens.
EFFICIENCY = 1.3
STEP_OVERHEAD = 0.5  # seconds, at REFERENCE_GFLOPS
REFERENCE_GFLOPS = 170.0
GPU_SPEEDUP = 25.0  # a data-centre GPU over 2 CPU cores, for this estimate only
# A student (export/student.py): the trained model scores the training texts (a forward pass, a
# third of a step's work), then 6 epochs train half the layers (half a step's work each).
STUDENT_STEPS = 6 * 0.5 + 1 / 3


@dataclass(frozen=True)
class Budget:
    seconds: int
    reason: str
    student_fits: bool = False  # a distilled student (export.student) fits after the transformer

    @property
    def text(self) -> str:
        minutes = self.seconds // 60
        return f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}m"


def has_gpu() -> bool:
    """A CUDA GPU on this machine (without importing PyTorch: init stays fast)."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def matmul_gflops(seconds: float = 0.15) -> float:
    """float32 matrix products per second on this machine, in GFLOPS, timed now."""
    a = np.random.default_rng(0).random((384, 384), dtype=np.float32)
    a @ a
    started, count = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        a @ a
        count += 1
    return 2 * 384**3 * count / (time.perf_counter() - started) / 1e9


def planned_steps(rows: int, generates: bool) -> int:
    """The optimizer steps the transformer's auto epochs aim at (train/auto.py): ~2,500 steps in
    1 to 20 epochs (a generator: 300 in 1 to 5), on 80% of the records."""
    budget, most = (300, 5) if generates else (2500, 20)
    per_epoch = max(1, math.ceil(0.8 * rows / BATCH))
    return per_epoch * min(most, max(1, math.ceil(budget / per_epoch)))


def default_budget(
    rows: int, mean_tokens: float, parameters: int | None, generates: bool, fast: bool = True
) -> Budget:
    """The limit and what it buys: the transformer's planned steps against the time they take here
    (`parameters`: those a step computes with; None when the catalog does not know them; `fast`:
    fast learners fit before the transformer)."""
    from tunesmith.threads import usable_cores

    gpu = has_gpu()
    limit = GPU_LIMIT if gpu else CPU_LIMIT
    machine = "a GPU" if gpu else f"{usable_cores()} CPU cores"
    first = "; the fast learners take seconds" if fast else ""
    if not parameters:
        return Budget(limit, f"about {limit // 60} min on {machine} for the transformer{first}")
    steps = planned_steps(rows, generates)
    gflops = matmul_gflops() * (GPU_SPEEDUP if gpu else 1.0)
    step_seconds = 6 * parameters * BATCH * mean_tokens * PADDING / (gflops * 1e9 * EFFICIENCY)
    step_seconds += STEP_OVERHEAD * REFERENCE_GFLOPS / gflops
    full = steps * step_seconds
    fits = full <= 0.9 * limit
    share = min(1.0, 0.9 * limit / full) if full else 1.0
    verdict = "all of them fit" if fits else f"about {share:.0%} of them fit, the rest is cut"
    student = math.ceil(0.8 * rows / BATCH) * step_seconds * STUDENT_STEPS
    return Budget(
        limit,
        f"on {machine} the transformer's {steps:,} planned steps take ~{_minutes(full)} here (estimated): "
        f"{verdict}{first}",
        student_fits=not generates and full + student <= 0.9 * limit,
    )


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
