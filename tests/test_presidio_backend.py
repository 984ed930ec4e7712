"""The optional English NER backend through Presidio, with a real (tiny, rule-based) spaCy
pipeline saved to disk: no statistical model can be downloaded here."""

from pathlib import Path

import pytest

from tunesmith import recipe as recipe_io
from tunesmith.data.pii.redact import Redactor
from tunesmith.errors import RecipeError

spacy = pytest.importorskip("spacy")
pytest.importorskip("presidio_analyzer")


def _pipeline(folder: Path) -> Path:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Ada Lovelace"}, {"label": "GPE", "pattern": "Leeds"}])
    nlp.to_disk(folder)
    return folder


def _options(model: str) -> recipe_io.PiiSection:
    return recipe_io.PiiSection(english_ner="presidio", english_ner_model=model)


def test_presidio_adds_names_the_rules_cannot_see(tmp_path: Path) -> None:
    redactor = Redactor.from_recipe(_options(str(_pipeline(tmp_path / "ner"))))
    text, found = redactor.redact("Ada Lovelace wrote from Leeds, phone 415-555-0132", "text")
    assert text == "[PERSON] wrote from [ADDRESS], phone [PHONE]"
    assert {f.type for f in found} == {"PERSON", "ADDRESS", "PHONE"}


def test_a_missing_spacy_model_is_a_clear_error() -> None:
    with pytest.raises(RecipeError, match=r"english_ner_model.*not installed"):
        Redactor.from_recipe(_options("en_core_web_missing"))
