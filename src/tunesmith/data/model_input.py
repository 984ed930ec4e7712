"""Raw text -> what the model was trained on: the recipe's cleaning and de-identification.

The prepare stage applies them to the training data, so the CLI, the server and annotation
suggestions apply the same to every raw text they are given; otherwise a phone number in a
request would reach a model that only ever saw `[PHONE]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tunesmith.console import console
from tunesmith.data.clean import build_cleaner
from tunesmith.data.fields import FieldMissing, extract_text, row_columns, template_fields
from tunesmith.data.pii.redact import Redactor
from tunesmith.errors import RecipeError
from tunesmith.recipe import Recipe


class ModelInput:
    def __init__(self, recipe: Recipe) -> None:
        self.clean = build_cleaner(recipe.prepare.clean)
        options = recipe.prepare.pii
        try:
            self.redactor = Redactor.from_recipe(options)
        except RecipeError:  # no pseudonym key here: a mask is the closest placeholder
            console.print("[yellow]warning:[/] no pseudonym key set: personal data in inputs is masked")
            self.redactor = Redactor.from_recipe(options.model_copy(update={"action": "mask", "columns": {}}))
        self.mask_only = options.action == "drop"  # an input cannot be dropped: mask it
        self.recipe = recipe

    def _redact(self, text: str) -> str:
        return self.redactor.scrub(text) if self.mask_only else self.redactor.redact(text, "text")[0]

    def __call__(self, texts: Sequence[str]) -> list[str]:
        return [self._redact(self.clean(text)) for text in texts]

    def row_columns(self) -> list[str]:
        """The columns a row is read by: the fields of `data.text_template`."""
        return template_fields(self.recipe.data.text_template or "")

    def missing_column(self, record: dict[str, Any]) -> str | None:
        """The first column the text template needs that the row lacks (None: none is missing)."""
        data = self.recipe.data
        try:
            extract_text(record, data.text_field, data.text_template, data.list_separator)
        except FieldMissing as missing:
            return missing.path
        return None

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A raw table row as prepare made each training row: column policies first, then the
        template's text (cleaned per field, de-identified as a whole) and the raw columns.
        A missing required column raises FieldMissing."""
        data = self.recipe.data
        record = self.redactor.columns.apply(record)
        joiner = " " if self.recipe.prepare.clean.collapse_whitespace else "\n"

        def clean_field(path: str, text: str) -> str:
            return self.redactor.columns.protect(path, self.clean(text))

        text = extract_text(
            record, data.text_field, data.text_template, data.list_separator, clean_field, joiner
        )
        text = self._redact(text.strip()).strip()
        if self.recipe.prepare.max_chars is not None:
            text = text[: self.recipe.prepare.max_chars]
        return {"text": text, "columns": row_columns(record, data.text_template or "")}
