"""A small file the training updates while it runs (step, total, epoch, loss), so another process
- the web console - can show how far a run has got without parsing its console output."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tunesmith import atomic

PROGRESS_FILE = "training_progress.json"


class ProgressFile(TrainerCallback):  # type: ignore[misc]
    """Writes RUN/training_progress.json at most every `every_s` seconds, and at each log and end."""

    def __init__(self, run_dir: Path, every_s: float = 1.0) -> None:
        self.path = run_dir / PROGRESS_FILE
        self.every_s = every_s
        self._last = 0.0
        self._loss: float | None = None

    def _write(self, state: Any, force: bool = False) -> None:
        now = time.monotonic()
        if not state.is_world_process_zero or (not force and now - self._last < self.every_s):
            return
        self._last = now
        atomic.write_json(
            self.path,
            {
                "step": state.global_step,
                "max_steps": state.max_steps,
                "epoch": state.epoch,
                "loss": self._loss,
                "updated": time.time(),
            },
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self._write(state)
        return control

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        if logs and isinstance(logs.get("loss"), int | float):
            self._loss = float(logs["loss"])
        self._write(state, force=True)
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self._write(state, force=True)
        return control
