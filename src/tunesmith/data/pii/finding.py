"""One piece of personal data found in a text: its type, span, value and confidence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    type: str
    start: int
    end: int
    value: str
    score: float
