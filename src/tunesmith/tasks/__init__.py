"""Task types. Each is one module implementing `Task`; every stage reaches tasks through `get_task`."""

from __future__ import annotations

from typing import Any

from tunesmith.tasks.base import Task
from tunesmith.tasks.causal_lm import CausalLMTask
from tunesmith.tasks.classification import ClassificationTask
from tunesmith.tasks.extractive_qa import ExtractiveQATask
from tunesmith.tasks.matching import matching_task
from tunesmith.tasks.multilabel import MultiLabelTask
from tunesmith.tasks.multitask import MultiTask
from tunesmith.tasks.regression import RegressionTask
from tunesmith.tasks.seq2seq import Seq2SeqTask
from tunesmith.tasks.tabular import TabularTask
from tunesmith.tasks.token_classification import TokenClassificationTask

_TASKS: dict[str, Any] = {
    "token_classification": TokenClassificationTask,
    "matching": matching_task,
    "tabular": TabularTask,
    "extractive_qa": ExtractiveQATask,
    "seq2seq": Seq2SeqTask,
    "causal_lm": CausalLMTask,
    "multitask": MultiTask,
    "classification": ClassificationTask,
    "multilabel": MultiLabelTask,
    "regression": RegressionTask,
}


def get_task(section: Any) -> Task:
    """The task for a recipe's `task` section (or a bare type name, with default options)."""
    from tunesmith.recipe import TaskSection

    options = TaskSection(type=section) if isinstance(section, str) else section
    try:
        return _TASKS[options.type](options)  # type: ignore[no-any-return]
    except KeyError:
        allowed = ", ".join(sorted(_TASKS))
        raise ValueError(f"unknown task.type {options.type!r} (allowed: {allowed})") from None


__all__ = ["Task", "get_task"]
