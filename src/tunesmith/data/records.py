"""Every record of a file or folder, with unreadable ones sent to a quarantine on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunesmith.data.fields import FieldMissing, extract_text
from tunesmith.data.quarantine import Quarantine
from tunesmith.data.read import Unreadable, data_files, read_records


def iter_records(path: Path, quarantine: Quarantine) -> Iterator[tuple[Path, int, Any]]:
    """(file, line, record) for every readable record; the rest go to `quarantine` with the reason."""
    for file in data_files(path):
        for line, record in read_records(file):
            if isinstance(record, Unreadable):
                quarantine.reject(str(file), line, record.reason, None, record.raw)
                continue
            yield file, line, record


def iter_texts(path: Path, text_field: str, quarantine: Quarantine) -> Iterator[tuple[str, Any, str]]:
    """(source 'file:line', record, text); records without the text field are quarantined."""
    for file, line, record in iter_records(path, quarantine):
        try:
            text = extract_text(record, text_field, None, "; ")
        except FieldMissing:
            quarantine.reject(str(file), line, f"missing field: '{text_field}'", text_field, record)
            continue
        yield f"{file.name}:{line}", record, text
