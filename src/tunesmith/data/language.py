"""Guess the language mix of a text sample: zh, en or mixed.

Written by hand because the choice needed is only "does this data need a Chinese-capable
tokenizer", which a character-class count answers deterministically (langdetect is random).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def _share(text: str) -> float | None:
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text)) / 4
    return cjk / (cjk + latin) if cjk + latin else None


def language_mix(texts: Iterable[str]) -> dict[str, int]:
    """How many texts are zh, en, mixed, or have no letters at all ("other")."""
    counts = {"zh": 0, "en": 0, "mixed": 0, "other": 0}
    for text in texts:
        share = _share(text)
        key = "other" if share is None else "zh" if share >= 0.8 else "en" if share <= 0.05 else "mixed"
        counts[key] += 1
    return {k: v for k, v in counts.items() if v}


def detect_language(texts: Iterable[str]) -> str:
    cjk = latin = 0
    for text in texts:
        cjk += len(_CJK.findall(text))
        latin += len(_LATIN.findall(text)) / 4  # about four Latin letters per word vs. one hanzi
    total = cjk + latin
    if total == 0:
        return "en"
    share = cjk / total
    if share >= 0.8:
        return "zh"
    if share <= 0.05:
        return "en"
    return "mixed"
