"""Guess, from a sample of a data file, which fields hold the text and the label (for `init`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.data.language import detect_language
from tunesmith.data.read import Unreadable, read_records
from tunesmith.errors import DataError

SAMPLE = 2000
_LABEL_NAMES = (
    "label",
    "labels",
    "category",
    "intent",
    "class",
    "sentiment",
    "target",
    "tag",
    "risk_level",
    "diagnosis",
    "disease",
    "y",
    "is_fraud",
    "isfraud",
    "type",
)
_TEXT_NAMES = (
    "text",
    "content",
    "question",
    "query",
    "sentence",
    "review",
    "utterance",
    "description",
    "body",
    "message",
    "comment",
)


@dataclass
class FieldStats:
    path: str
    present: int = 0
    strings: int = 0
    lists: int = 0
    total_chars: int = 0
    values: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Inspection:
    rows: int
    text_field: str
    label_field: str
    language: str
    labels: list[str]
    fields: list[str]
    multi_label: bool = False  # the label field holds lists (unfair_categories: [...])


def _flatten(record: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            flat.update(_flatten(value, f"{path}.", depth + 1))
        else:
            flat[path] = value
    return flat


def _collect(path: Path) -> tuple[int, dict[str, FieldStats]]:
    stats: dict[str, FieldStats] = {}
    rows = 0
    for _, record in read_records(path):
        if isinstance(record, Unreadable):
            continue
        rows += 1
        for key, value in _flatten(record).items():
            if value is None or value == "":
                continue
            entry = stats.setdefault(key, FieldStats(key))
            entry.present += 1
            if isinstance(value, list):
                entry.lists += 1
                entry.values.update(str(v) for v in value)
            else:
                text = str(value)
                entry.strings += isinstance(value, str)
                entry.total_chars += len(text)
                entry.values[text] += 1
        if rows >= SAMPLE:
            break
    return rows, stats


def _rank_text(entry: FieldStats, rows: int) -> float:
    if entry.strings < 0.9 * rows:
        return -1.0
    mean_chars = entry.total_chars / max(entry.present, 1)
    distinct = len(entry.values) / max(entry.present, 1)
    bonus = 2.0 if entry.path.split(".")[-1].lower() in _TEXT_NAMES else 1.0
    return mean_chars * distinct * bonus


def _rank_label(entry: FieldStats, rows: int, text_field: str) -> float:
    if entry.path == text_field or entry.present < 0.5 * rows:
        return -1.0
    distinct = len(entry.values)
    if distinct < 2 or distinct > max(10, min(500, rows // 2)):
        return -1.0
    name = entry.path.split(".")[-1].lower()
    bonus = 10.0 if name in _LABEL_NAMES else 1.0
    return bonus * entry.present / distinct


def inspect_file(path: Path) -> Inspection:
    rows, stats = _collect(path)
    if rows == 0:
        raise DataError(f"{path}: no readable records in the first {SAMPLE} lines")
    text_candidates = sorted(stats.values(), key=lambda e: _rank_text(e, rows), reverse=True)
    if not text_candidates or _rank_text(text_candidates[0], rows) <= 0:
        raise DataError(f"{path}: no field holds text in most records; set data.text_field")
    text_field = text_candidates[0].path
    label_candidates = sorted(stats.values(), key=lambda e: _rank_label(e, rows, text_field), reverse=True)
    if not label_candidates or _rank_label(label_candidates[0], rows, text_field) <= 0:
        raise DataError(
            f"{path}: no field looks like a label (2 to 500 distinct values); set data.label_field"
        )
    label = label_candidates[0]
    texts = [v for v in stats[text_field].values]
    return Inspection(
        rows=rows,
        text_field=text_field,
        label_field=label.path,
        language=detect_language(texts),
        labels=sorted(label.values),
        fields=sorted(stats),
        multi_label=label.lists > 0.5 * label.present,
    )
