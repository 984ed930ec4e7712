"""Reading a recipe: YAML, `--set a.b=c` overrides, validation errors a person can act on,
relative paths, and the resolved copy a run folder keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tunesmith.errors import RecipeError
from tunesmith.recipe.base import RECIPE_FILE
from tunesmith.recipe.schema import Recipe


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse `a.b=c` into (['a', 'b'], value); the value is read as YAML (numbers, lists...)."""
    if "=" not in item:
        raise RecipeError(f"--set {item!r}: expected KEY=VALUE, e.g. --set training.epochs=3")
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise RecipeError(f"--set {item!r}: the key is empty")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def set_path(raw: dict[str, Any], parts: list[str], value: Any, source: str) -> None:
    """raw[parts[0]][parts[1]]... = value, creating sections on the way; `source` names the setting
    in the error when a part is a value rather than a section."""
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise RecipeError(f"{source}: '{part}' is a value, not a section")
        node = child
    node[parts[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        parts, value = parse_override(item)
        set_path(raw, parts, value, f"--set {item!r}")
    return raw


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at `loc` (the parent of an unknown key), for the error message."""
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: the recipe is not valid:"]
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(Recipe, loc[:-1]))
            lines.append(f"  - {key}: unknown key (allowed here: {allowed})")
        elif item["type"] == "missing":
            lines.append(f"  - {key}: required key is missing")
        else:
            got = item.get("input")
            lines.append(f"  - {key}: {item['msg']} (got {got!r})")
    return "\n".join(lines)


def validate(raw: dict[str, Any], source: str = "recipe") -> Recipe:
    try:
        return Recipe.model_validate(raw)
    except ValidationError as error:
        raise RecipeError(format_validation_error(error, source)) from None


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RecipeError(f"{path}: no such recipe file (create one with `tunesmith init DATA`)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RecipeError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping with a 'data' section")
    return raw


def resolve_paths(recipe: Recipe, base: Path) -> Recipe:
    """Make data paths absolute, relative to the recipe's folder, so a run folder is self-contained."""
    data = recipe.data
    updates = {}
    for key in ("train", "validation", "test"):
        value = getattr(data, key)
        if value is not None and not Path(value).is_absolute():
            updates[key] = str((base / value).resolve())
    return recipe.model_copy(update={"data": data.model_copy(update=updates)})


def load(path: Path, overrides: list[str] | None = None) -> Recipe:
    """Read, override, validate and resolve a recipe file."""
    raw = apply_overrides(read_yaml(path), overrides or [])
    recipe = validate(raw, str(path))
    return resolve_paths(recipe, path.resolve().parent)


def dump(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=100)


def load_resolved(run_dir: Path) -> Recipe:
    """Read the resolved recipe a run folder holds (written by the first stage)."""
    return validate(read_yaml(run_dir / RECIPE_FILE), str(run_dir / RECIPE_FILE))
