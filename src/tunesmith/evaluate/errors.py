"""Error analysis for single-label answers: the mistakes the model was surest of, and the label
pairs it confuses most, each with example texts (as prepared: cleaned and de-identified)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

SHOWN_CHARS = 200


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def error_analysis(
    records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], top: int = 10, examples: int = 3
) -> dict[str, Any]:
    mistakes = [
        (answer["score"], record, answer)
        for record, answer in zip(records, answers, strict=True)
        if str(record["label"]) != answer["label"]
    ]
    mistakes.sort(key=lambda item: -item[0])
    confident = [
        {"text": _shown(r["text"]), "label": str(r["label"]), "predicted": a["label"], "score": round(s, 4)}
        for s, r, a in mistakes[:top]
    ]
    pairs = Counter((str(r["label"]), a["label"]) for _, r, a in mistakes)
    confused = [
        {
            "label": truth,
            "predicted": predicted,
            "count": n,
            "examples": [
                _shown(r["text"])
                for _, r, a in mistakes
                if (str(r["label"]), a["label"]) == (truth, predicted)
            ][:examples],
        }
        for (truth, predicted), n in pairs.most_common(top // 2 or 1)
    ]
    return {"mistakes": len(mistakes), "most_confident_mistakes": confident, "most_confused_pairs": confused}
