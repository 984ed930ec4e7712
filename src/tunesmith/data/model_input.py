"""Raw text -> what the model was trained on: the recipe's cleaning and de-identification.

The prepare stage applies them to the training data, so the CLI, the server and annotation
suggestions apply the same to every raw text they are given; otherwise a phone number in a
request would reach a model that only ever saw `[PHONE]`.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunesmith.console import console
from tunesmith.data.clean import build_cleaner
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

    def __call__(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            cleaned = self.clean(text)
            out.append(
                self.redactor.scrub(cleaned) if self.mask_only else self.redactor.redact(cleaned, "text")[0]
            )
        return out
