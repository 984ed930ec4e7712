"""A Trainer whose loss is the task's own function of (model, batch): a prompted decoder learns its
targets with the output layer run on the target positions only (tasks/prompted.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformers import Trainer

TaskLoss = Callable[[Any, dict[str, Any]], Any]


class TaskLossTrainer(Trainer):
    # The task's loss is a mean over the batch's learned tokens: the Trainer divides it by the
    # gradient accumulation steps, as it does for a model's own mean loss.
    loss_is_scaled_for_ga = False

    def __init__(self, *args: Any, task_loss: TaskLoss, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task_loss = task_loss

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        loss = self.task_loss(model, inputs)
        return (loss, {"loss": loss}) if return_outputs else loss


def trainer_class(task_loss: TaskLoss | None) -> tuple[type[Trainer], dict[str, Any]]:
    """The Trainer class and its extra arguments for a task's loss (None: the model's own)."""
    if task_loss is None:
        return Trainer, {}
    return TaskLossTrainer, {"task_loss": task_loss}
