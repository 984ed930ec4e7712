"""Stage 2, choose: analyse a data file and write the recipe that fits it (what `init` runs)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tunesmith import atomic
from tunesmith.init.plan import Plan, Wishes, analyse
from tunesmith.init.recipe_text import findings, recipe_text
from tunesmith.recipe import validate

__all__ = ["Plan", "Wishes", "analyse", "findings", "write_recipe"]


def write_recipe(data: Path, out: Path, wishes: Wishes | None = None) -> tuple[Path, Plan]:
    plan = analyse(data, wishes)
    text = recipe_text(plan, data, out)
    validate(yaml.safe_load(text), str(out))  # what init writes must load
    atomic.write_text(out, text)
    return out, plan
