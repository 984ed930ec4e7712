"""Training curves (loss and validation metric per step) as a PNG beside the logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunesmith.metrics.plots import line_plot


def plot_training_curves(log_history: list[dict[str, Any]], metric: str, path: Path) -> None:
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    scores = [(e["step"], e[f"eval_{metric}"]) for e in log_history if f"eval_{metric}" in e]
    line_plot(
        panels=[
            ("loss", {"train loss": train, "validation loss": evals}),
            (f"validation {metric}", {metric: scores}),
        ],
        xlabel="step",
        path=path,
    )
