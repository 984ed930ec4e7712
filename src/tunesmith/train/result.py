"""What the train stage hands back: where the model is, and what happened."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    summary: dict[str, Any]
    validation_outputs: Any = None  # the model's raw outputs on validation, in file order
