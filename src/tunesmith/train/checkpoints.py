"""Resumable checkpoints: written every N steps, the last K kept, only complete ones resumed from.

The Trainer writes a checkpoint's files one after another and `trainer_state.json` last, so a
checkpoint counts as complete only when that file parses and names the checkpoint's own step. A
process killed while writing leaves an incomplete folder, which `latest_complete` removes.
Optimizer, scheduler and RNG files are read back by the Trainer with `torch.load(weights_only=True)`,
which rebuilds tensors and plain containers only, never arbitrary objects.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from tunesmith.console import console

CHECKPOINTS_DIR = "checkpoints"
STOPPED_FILE = "stopped.json"  # written on a Ctrl-C/SIGTERM stop, removed when training starts again
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def is_complete(folder: Path) -> bool:
    match = _CHECKPOINT.match(folder.name)
    if not match:
        return False
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return state.get("global_step") == int(match.group(1))


def latest_complete(folder: Path) -> Path | None:
    """The newest complete checkpoint under `folder`; incomplete ones are deleted."""
    if not folder.is_dir():
        return None
    found = sorted(
        (int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))
    )
    for _, path in found:
        if not is_complete(path):
            console.print(
                f"[yellow]removing incomplete checkpoint[/] {path} (the process stopped while writing it)"
            )
            shutil.rmtree(path, ignore_errors=True)
    complete = [path for _, path in found if path.exists()]
    return complete[-1] if complete else None


class SaveEverySteps(TrainerCallback):  # type: ignore[misc]
    """Ask the Trainer for a checkpoint every `every` optimizer steps, beside its per-epoch ones."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.global_step % self.every == 0:
            control.should_save = True
        return control


class StopOnInterrupt(TrainerCallback):  # type: ignore[misc]
    """Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and stops cleanly."""

    def __init__(self) -> None:
        self.requested = False
        self._first = 0.0
        self._previous: dict[int, Any] = {}

    def _request(self, signum: int, _frame: Any) -> None:
        now = time.monotonic()
        # A second Ctrl-C stops at once; one within a second is the same Ctrl-C, forwarded by
        # torchrun to a worker the terminal already reached.
        if self.requested and now - self._first > 1.0:
            raise KeyboardInterrupt
        if self.requested:
            return
        self.requested, self._first = True, now
        if int(os.environ.get("RANK", "0")) == 0:
            console.print(
                "\n[yellow]stopping:[/] finishing this step and saving a checkpoint (Ctrl-C again to abort)"
            )

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[signum] = signal.signal(signum, self._request)
        return control

    def _agreed(self) -> bool:
        """Whether any process was asked to stop: every rank must stop after the same step, or
        the others would wait forever in their next gradient all-reduce."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self.requested
        flag = torch.tensor([1.0 if self.requested else 0.0])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        # `or`: a signal that arrived during the all-reduce must not be overwritten.
        self.requested = self.requested or bool(flag.item())
        return self.requested

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self._agreed():
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.requested:
            # No end-of-epoch evaluation or second save: the checkpoint is the step's, untouched.
            # (An evaluation draws from the global RNG to seed its data loader, so the resumed run
            # would draw different dropout masks from an uninterrupted one.)
            control.should_evaluate = False
            control.should_save = False
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        return control
