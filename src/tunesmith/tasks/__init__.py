"""Task types. Each is one module implementing `Task`; every stage reaches tasks through `get_task`.

A task's module is imported when a recipe names it, so a process serving a classifier from ONNX
never loads what generation or training needs."""

from __future__ import annotations

import importlib
from typing import Any

from tunesmith.tasks.base import Task

# task.type -> (module under tunesmith.tasks, the class or factory that takes the task section)
_TASKS: dict[str, tuple[str, str]] = {
    "token_classification": ("token_classification", "TokenClassificationTask"),
    "matching": ("matching", "matching_task"),
    "tabular": ("tabular", "TabularTask"),
    "extractive_qa": ("extractive_qa", "ExtractiveQATask"),
    "seq2seq": ("seq2seq", "Seq2SeqTask"),
    "causal_lm": ("causal_lm", "CausalLMTask"),
    "multitask": ("multitask", "MultiTask"),
    "classification": ("classification", "ClassificationTask"),
    "multilabel": ("multilabel", "MultiLabelTask"),
    "regression": ("regression", "RegressionTask"),
}


def get_task(section: Any) -> Task:
    """The task for a recipe's `task` section (or a bare type name, with default options)."""
    from tunesmith.recipe import TaskSection

    options = TaskSection(type=section) if isinstance(section, str) else section
    if options.type not in _TASKS:
        allowed = ", ".join(sorted(_TASKS))
        raise ValueError(f"unknown task.type {options.type!r} (allowed: {allowed})")
    module, name = _TASKS[options.type]
    make = getattr(importlib.import_module(f"tunesmith.tasks.{module}"), name)
    return make(options)  # type: ignore[no-any-return]


__all__ = ["Task", "get_task"]
