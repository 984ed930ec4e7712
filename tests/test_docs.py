"""The site's generated pages match the code: the recipe reference its schema, the CLI reference the
Typer app, the home page the README. `make docs` rewrites them; this fails when one is stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_generator():  # type: ignore[no-untyped-def]
    path = ROOT / "docs" / "generate_reference.py"
    spec = importlib.util.spec_from_file_location("generate_reference", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_generated_pages_are_current() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, text in load_generator().pages().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `make docs` (or python docs/generate_reference.py): stale {stale}"


def test_every_recipe_key_is_in_the_reference() -> None:
    from tunesmith.recipe import Recipe

    page = (ROOT / "docs" / "reference" / "recipe.md").read_text(encoding="utf-8")
    for section, field in Recipe.model_fields.items():
        models = getattr(field.annotation, "model_fields", {})
        for key in models:
            assert f"`{section}.{key}`" in page, f"{section}.{key} missing from the recipe reference"


def test_every_command_is_in_the_cli_reference() -> None:
    import typer

    from tunesmith.cli import app

    page = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    for name in root.list_commands(root.context_class(root)):  # type: ignore[attr-defined]
        assert f"## `tunesmith {name}`" in page


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert not {p for p in pages if f": {p}" not in nav}
