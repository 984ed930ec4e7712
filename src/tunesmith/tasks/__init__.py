"""Task types. Each is one module implementing `Task`; every stage reaches tasks through `get_task`."""

from __future__ import annotations

from tunesmith.tasks.base import Task
from tunesmith.tasks.classification import ClassificationTask
from tunesmith.tasks.multilabel import MultiLabelTask
from tunesmith.tasks.regression import RegressionTask

_TASKS: dict[str, type[Task]] = {
    "classification": ClassificationTask,
    "multilabel": MultiLabelTask,
    "regression": RegressionTask,
}


def get_task(task_type: str) -> Task:
    try:
        return _TASKS[task_type]()
    except KeyError:
        allowed = ", ".join(sorted(_TASKS))
        raise ValueError(f"unknown task.type {task_type!r} (allowed: {allowed})") from None


__all__ = ["Task", "get_task"]
