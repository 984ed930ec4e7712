"""Read question-answer records from any supported file; rejects go to a quarantine file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunesmith.data.fields import as_text, get_path, is_empty
from tunesmith.data.quarantine import Quarantine
from tunesmith.data.records import iter_records


def read_qa_records(
    path: Path, question: str, answer: str, category: str | None, rejected_path: Path
) -> tuple[list[dict[str, Any]], int]:
    """(records {question, answer, category}, how many were rejected into `rejected_path`)."""
    quarantine = Quarantine(rejected_path)
    records: list[dict[str, Any]] = []
    try:
        for file, line, record in iter_records(path, quarantine):
            missing = next((f for f in (question, answer) if is_empty(get_path(record, f))), None)
            if missing is not None:
                quarantine.reject(str(file), line, f"missing field: '{missing}'", missing, record)
                continue
            value = get_path(record, category) if category else None
            records.append(
                {
                    "question": as_text(get_path(record, question), "; ").strip(),
                    "answer": as_text(get_path(record, answer), "; ").strip(),
                    "category": None if is_empty(value) else as_text(value, "; "),
                }
            )
    finally:
        quarantine.close()
    return records, quarantine.count
