"""Optional English name and location finding with Presidio and a spaCy NER model.

Used when the recipe says `prepare.pii.english_ner: presidio`; the spaCy model must be installed
locally (e.g. `pip install ./en_core_web_sm-3.8.0-py3-none-any.whl`), nothing is downloaded.
"""

from __future__ import annotations

import re
from pathlib import Path

from tunesmith.data.pii.finding import Finding
from tunesmith.data.pii.recognizers import resolve_overlaps
from tunesmith.errors import RecipeError

_TYPES = {"PERSON": "PERSON", "LOCATION": "ADDRESS"}
_LATIN = re.compile(r"[A-Za-z]{3}")


class PresidioNames:
    def __init__(self, model: str) -> None:
        try:
            import spacy
            from presidio_analyzer import AnalyzerEngine
            from presidio_analyzer.nlp_engine import NlpEngineProvider
        except ImportError:
            raise RecipeError(
                "prepare.pii.english_ner is 'presidio' but presidio-analyzer is not installed: "
                "pip install 'tunesmith[presidio]', or set prepare.pii.english_ner: rules"
            ) from None
        if not spacy.util.is_package(model) and not Path(model).is_dir():
            raise RecipeError(
                f"prepare.pii.english_ner_model: the spaCy model {model!r} is not installed; install its "
                "wheel from a local file, or set prepare.pii.english_ner: rules"
            )
        config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
        engine = NlpEngineProvider(nlp_configuration=config).create_engine()
        self.analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])

    def merge(
        self, text: str, found: list[Finding], types: tuple[str, ...], threshold: float
    ) -> list[Finding]:
        if not _LATIN.search(text):
            return found
        wanted = [entity for entity, kind in _TYPES.items() if kind in types]
        extra = [
            Finding(_TYPES[r.entity_type], r.start, r.end, text[r.start : r.end], r.score)
            for r in self.analyzer.analyze(text, language="en", entities=wanted)
            if r.score >= threshold
        ]
        return resolve_overlaps(found + extra) if extra else found
