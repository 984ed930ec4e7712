"""Rejected records: never dropped silently, kept with file, line and reason in rejected.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


class Quarantine:
    """Append-only writer of rejected records; counts reasons for the data report."""

    def __init__(self, path: Path, scrub: Callable[[str], str] | None = None) -> None:
        self.path = path
        self.scrub = scrub
        self.reasons: Counter[str] = Counter()
        self._handle: TextIO | None = None

    def reject(self, file: str, line: int, reason: str, field: str | None, raw: Any) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        record = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        if self.scrub is not None:  # a rejected record must not carry personal data either
            record = self.scrub(record)
        entry = {"file": file, "line": line, "field": field, "reason": reason, "record": record}
        self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.reasons[reason.split(":")[0]] += 1

    @property
    def count(self) -> int:
        return sum(self.reasons.values())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
