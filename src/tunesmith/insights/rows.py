"""A source row checked for what scoring needs: a text, and a readable time when there is a time
column; a row without them goes to rejected.jsonl with the reason."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunesmith.errors import DataError
from tunesmith.insights.source import Records
from tunesmith.insights.store import plain


def parse_time(value: Any, where: str) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"{where}: {value!r} is not a date or time") from None
    return stamp.tz_convert(None) if stamp.tzinfo else stamp


def usable_row(
    row: dict[str, Any], line: int, where: str, text_column: str, time_column: str | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the row ready to key and score, None), or (None, its rejected.jsonl entry)."""
    at = f"{where}:{line}" if line else where
    text = row.get(text_column)
    if not isinstance(text, str) or not text.strip():
        return None, rejected_entry(where, line, text_column, "missing or empty text", row)
    try:
        stamp = parse_time(row.get(time_column), f"{at} field {time_column}") if time_column else None
    except DataError as error:
        return None, rejected_entry(where, line, time_column, str(error), row)
    return {"_row": row, "_time": stamp, "_line": line}, None


def usable(
    records: Records, text_column: str, time_column: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows with a text (and a readable time); the others with the reason, for rejected.jsonl."""
    rows, rejected = [], []
    for line, why in records.unreadable:
        rejected.append({"source": records.where, "line": line, "reason": why})
    for row, line in zip(records.rows, records.lines, strict=True):
        kept, refused = usable_row(row, line, records.where, text_column, time_column)
        if kept is not None:
            rows.append(kept)
        else:
            rejected.append(refused)
    if not rows:
        raise DataError(f"{records.where}: no record has a text in {text_column!r}")
    return rows, rejected


def rejected_entry(
    where: str, line: int, field: str | None, reason: str, row: dict[str, Any]
) -> dict[str, Any]:
    return {"source": where, "line": line, "field": field, "reason": reason, "record": plain(row)}
