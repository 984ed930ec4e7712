"""Guess the language mix of a text sample: zh, en or mixed.

Written by hand because the choice needed is only "does this data need a Chinese-capable
tokenizer", which a character-class count answers deterministically (langdetect is random).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def _letters(text: str) -> tuple[int, float]:
    """(hanzi, Latin words): about four Latin letters per word vs. one hanzi."""
    return len(_CJK.findall(text)), len(_LATIN.findall(text)) / 4


def _classify(cjk: float, latin: float) -> str | None:
    """zh, en or mixed by the hanzi share; None without letters."""
    if cjk + latin == 0:
        return None
    share = cjk / (cjk + latin)
    return "zh" if share >= 0.8 else "en" if share <= 0.05 else "mixed"


def language_mix(texts: Iterable[str]) -> dict[str, int]:
    """How many texts are zh, en, mixed, or have no letters at all ("other")."""
    counts = {"zh": 0, "en": 0, "mixed": 0, "other": 0}
    for text in texts:
        counts[_classify(*_letters(text)) or "other"] += 1
    return {k: v for k, v in counts.items() if v}


def detect_language(texts: Iterable[str]) -> str:
    cjk = latin = 0.0
    for text in texts:
        hanzi, words = _letters(text)
        cjk += hanzi
        latin += words
    return _classify(cjk, latin) or "en"
