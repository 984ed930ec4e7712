"""Rejected records: never dropped silently, kept with file, line and reason in rejected.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


def reason_kind(reason: str) -> str:
    """What the report counts a rejection under: the reason up to its first colon."""
    return reason.split(":")[0]


def quarantine_entry(
    file: str, line: int, reason: str, field: str | None, raw: Any, scrub: Callable[[str], str] | None
) -> str:
    """One line of rejected.jsonl: where the record was, why it was rejected, and the record
    (`scrub` masks personal data in it: a rejected record must not carry any either)."""
    record = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    if scrub is not None:
        record = scrub(record)
    entry = {"file": file, "line": line, "field": field, "reason": reason, "record": record}
    return json.dumps(entry, ensure_ascii=False, default=str) + "\n"


class Quarantine:
    """Append-only writer of rejected records; counts reasons for the data report."""

    def __init__(self, path: Path, scrub: Callable[[str], str] | None = None) -> None:
        self.path = path
        self.scrub = scrub
        self.reasons: Counter[str] = Counter()
        self._handle: TextIO | None = None

    def reject(
        self, file: str, line: int, reason: str, field: str | None, raw: Any, deidentified: bool = False
    ) -> None:
        """`deidentified`: the record was de-identified when it was accepted (a duplicate found
        later, as it stands in the splits): it is not scanned again."""
        scrub = None if deidentified else self.scrub
        self.write_entries(quarantine_entry(file, line, reason, field, raw, scrub), [reason])

    def write_entries(self, text: str, reasons: list[str]) -> None:
        """Append entries made by `quarantine_entry` (in a worker process), in their order."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(text)
        self.reasons.update(reason_kind(reason) for reason in reasons)

    @property
    def count(self) -> int:
        return sum(self.reasons.values())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
