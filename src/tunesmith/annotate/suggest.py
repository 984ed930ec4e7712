"""Pre-label unlabelled records with a trained run and order them most uncertain first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.annotate.uncertainty import Strategy, most_uncertain_first, uncertainty
from tunesmith.data.quarantine import Quarantine
from tunesmith.data.records import iter_texts
from tunesmith.runtime.predict import Predictor
from tunesmith.tasks.classification import softmax


@dataclass(frozen=True)
class Suggestion:
    text: str
    label: str
    confidence: float
    uncertainty: float
    source: str


def read_unlabelled(path: Path, text_field: str, quarantine: Quarantine) -> tuple[list[str], list[str]]:
    """(texts, sources 'file:line'); records without the text go to the quarantine."""
    texts, sources = [], []
    for source, _record, text in iter_texts(path, text_field, quarantine):
        texts.append(text)
        sources.append(source)
    return texts, sources


def suggest(
    predictor: Predictor, texts: list[str], sources: list[str], strategy: Strategy, show: bool = True
) -> list[Suggestion]:
    """Every text with the model's label and confidence, most uncertain first."""
    ready = [example["text"] for example in predictor.model_input(texts)]
    probabilities = softmax(predictor.outputs(ready, show=show)) if ready else np.zeros((0, 1))
    scores = uncertainty(probabilities, strategy) if ready else np.zeros(0)
    out = []
    for i in most_uncertain_first(probabilities, strategy) if ready else []:
        best = int(np.argmax(probabilities[i]))
        out.append(
            Suggestion(
                ready[i], predictor.labels[best], float(probabilities[i, best]), float(scores[i]), sources[i]
            )
        )
    return out


def as_rows(suggestions: list[Suggestion]) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "text": s.text,
            "suggested_label": s.label,
            "confidence": round(s.confidence, 6),
            "uncertainty": round(s.uncertainty, 6),
            "source": s.source,
        }
        for rank, s in enumerate(suggestions, start=1)
    ]
