"""The new-run form is the recipe: init's guesses fill it, each field is a recipe key, and what
the user changes goes to `tunesmith run` as `--set KEY=VALUE` - the CLI's own overrides. A
changed task or field is init's job (`init --task/--text/--label/--pair`), so it re-analyses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith import recipe as recipe_io
from tunesmith.errors import TunesmithError
from tunesmith.init.stage import Wishes, findings, write_recipe
from tunesmith.recipe import TASK_TYPES

FINDINGS_FILE = "findings.json"


@dataclass(frozen=True)
class Field:
    key: str  # the recipe key
    label: str
    help: str
    choices: tuple[str, ...] = ()
    wish: str | None = None  # the init option it is (task, text, label, pair)


FIELDS = (
    Field("name", "Run name", "The run's folder under the root; letters, digits, '-' and '_'."),
    Field("task.type", "Task", "What the model learns.", TASK_TYPES, wish="task"),
    Field(
        "data.text_field",
        "Text field",
        "The field with the text (or a template: 'amount {amount}').",
        wish="text",
    ),
    Field(
        "data.pair_field",
        "Second text field",
        "Two-text tasks: the answer, context or candidate.",
        wish="pair",
    ),
    Field(
        "data.label_field",
        "Label field",
        "The field the model learns to predict ('none': no label).",
        wish="label",
    ),
    Field("model.name", "Model", "A packaged model name or a local model folder."),
    Field("model.max_length", "Longest input (tokens)", "Longer texts are truncated."),
    Field("training.epochs", "Epochs", "A number, or auto."),
    Field("training.batch_size", "Batch size", "Records per training step."),
    Field("training.learning_rate", "Learning rate", "A number, or auto."),
    Field(
        "split.method",
        "Split",
        "How validation and test are held out.",
        ("stratified", "random", "group", "time", "hash"),
    ),
)


def _get(raw: dict[str, Any], key: str) -> Any:
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def values(recipe: Path) -> dict[str, str]:
    """Each form field's value as the run would take it: what the recipe file sets, else the
    recipe's default ('auto' epochs); a text template stands for the text field."""
    raw = recipe_io.load(recipe).model_dump(mode="json")
    found = {f.key: shown(_get(raw, f.key)) for f in FIELDS}
    if not found["data.text_field"] and _get(raw, "data.text_template"):
        found["data.text_field"] = str(_get(raw, "data.text_template"))
    return found


def analyse(source: Path, recipe: Path, wishes: Wishes | None = None) -> list[str]:
    """Run init on the data; its findings (what a user reads) are kept beside the recipe."""
    _, plan = write_recipe(source, recipe, wishes)
    lines = findings(plan)
    (recipe.parent / FINDINGS_FILE).write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    return lines


def read_findings(recipe: Path) -> list[str]:
    path = recipe.parent / FINDINGS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def wishes_of(form: dict[str, str], current: dict[str, str]) -> Wishes | None:
    """The init options the form changed (None when it changed none)."""
    changed = {f.wish: form.get(f.key, "").strip() for f in FIELDS if f.wish}
    if all(changed[f.wish] == current[f.key] for f in FIELDS if f.wish):
        return None
    return Wishes(**{k: (v or None) for k, v in changed.items()})


def overrides_of(form: dict[str, str], current: dict[str, str], extra: str) -> list[str]:
    """`--set` items: every non-init field the user changed, then the extra lines as written."""
    items = [
        f"{f.key}={form[f.key].strip()}"
        for f in FIELDS
        if not f.wish and f.key in form and form[f.key].strip() != current[f.key]
    ]
    for n, line in enumerate(extra.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise TunesmithError(
                f"more settings, line {n}: {line!r} is not KEY=VALUE (e.g. training.warmup_ratio=0.1)"
            )
        items.append(line)
    return items


def check(recipe: Path, overrides: list[str]) -> str:
    """The run's name from the recipe with the overrides, or TunesmithError naming the bad key."""
    return recipe_io.load(recipe, overrides).name
