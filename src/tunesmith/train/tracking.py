"""Where training metrics go: TensorBoard files, an MLflow SQLite store, W&B offline - all local
unless the recipe names a remote MLflow URI or `training.wandb_mode: online`."""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunesmith.errors import RecipeError
from tunesmith.recipe import Recipe


def is_main_process() -> bool:
    """Rank 0 of a torchrun launch, or a plain single process."""
    return int(os.environ.get("RANK", "0")) == 0


def default_mlflow_uri(run_dir: Path) -> str:
    return f"sqlite:///{(run_dir / 'mlflow.db').resolve()}"


def _require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise RecipeError(f"training.tracking lists {module}, which is not installed: pip install '{extra}'")


@contextlib.contextmanager
def tracking_callbacks(recipe: Recipe, run_dir: Path) -> Iterator[list[Any]]:
    """The Trainer callbacks for `training.tracking`, with their settings in the environment
    (the way MLflow and W&B read them) for the length of the training only."""
    options = recipe.training
    callbacks: list[Any] = []
    settings: dict[str, str] = {}
    writer = None
    if "tensorboard" in options.tracking and is_main_process():
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        writer = SummaryWriter(log_dir=str(run_dir / "logs"))
        callbacks.append(TensorBoardCallback(tb_writer=writer))
    if "mlflow" in options.tracking:
        _require("mlflow", "tunesmith[tracking]")
        from transformers.integrations import MLflowCallback

        settings["MLFLOW_TRACKING_URI"] = options.mlflow_uri or default_mlflow_uri(run_dir)
        settings["MLFLOW_EXPERIMENT_NAME"] = recipe.name
        callbacks.append(MLflowCallback())
    if "wandb" in options.tracking:
        _require("wandb", "wandb")
        from transformers.integrations import WandbCallback

        settings.update(WANDB_MODE=options.wandb_mode, WANDB_DIR=str(run_dir), WANDB_PROJECT=recipe.name)
        callbacks.append(WandbCallback())
    previous = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield callbacks
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if writer is not None:
            writer.close()
