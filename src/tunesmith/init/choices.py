"""What init decides and the small helpers every decision uses: a `Choice` (a value with its reason
and runner-up), the whole `Plan`, the user's `Wishes`, and readers of records and columns."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.data.columns import Column
from tunesmith.errors import DataError
from tunesmith.init.roles import (
    LabelCandidate,
    rank_labels,
)
from tunesmith.init.sample import Sample

MIN_RECORDS = 50
LIST_SEPARATOR = ", "
_LENGTHS = (32, 64, 128, 256, 512)
_INSTRUCTION = frozenset(["instruction", "prompt", "input", "question", "query", "request", "ask"])
_RESPONSE = frozenset(["response", "output", "answer", "completion", "reply", "target"])
_WORD = re.compile(r"[A-Za-z]+|\d+|[\u3400-\u9fff\uf900-\ufaff]|[^\sA-Za-z\d]")


@dataclass(frozen=True)
class Choice:
    value: str
    reason: str
    runner_up: str | None = None


@dataclass
class Plan:
    """What `init` decided for a data file; `recipe_text` writes it as a commented recipe."""

    source: Path
    rows: int
    complete: bool
    task: Choice
    text_field: str | list[str] | None = None
    text_template: str | None = None
    pair_field: str | None = None
    label_field: str | None = None
    text: Choice | None = None
    label: Choice | None = None
    labels: list[str] = field(default_factory=list)  # label values seen (or entity types)
    ner_format: str | None = None
    language: str = "en"
    model: Choice = Choice("", "")
    max_length: int = 128
    max_target_length: int | None = None
    prompt: str | None = None  # seq2seq on a decoder: what it reads before writing the target
    tabular_model: str | None = None  # tabular: trees alone, or trees and the transformer (best)
    split_method: str = "stratified"
    group_field: str | None = None
    split_reason: str = "each label in proportion"
    columns: list[str] | None = None  # a headerless file's column names
    data_format: str | None = None  # set when the reader's guess is not enough (lines)
    list_separator: str | None = None
    pii_columns: dict[str, str] = field(default_factory=dict)
    pii_types_off: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # every column: its role and why
    leaks: list[str] = field(default_factory=list)
    time_field: str | None = None
    time_limit: str | None = None  # training.time_limit ("20m"), with what it buys
    student: bool = False  # a distilled student fits the budget too (export.student: auto)
    time_reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Wishes:
    """What the user fixed on the command line (`init --task --text --label --pair`)."""

    task: str | None = None
    text: str | None = None
    label: str | None = None  # "none": no label
    pair: str | None = None


def estimate_tokens(text: str) -> int:
    """A word-piece count without loading a tokenizer: long words and numbers split, each Chinese
    character and punctuation mark counts one, plus the two special tokens."""
    count = 2
    for piece in _WORD.findall(text):
        count += 1 + (len(piece) - 1) // 6 if piece.isalpha() and piece.isascii() else 1
        if piece.isdigit():
            count += (len(piece) - 1) // 3
    return count


def length_for(texts: list[str]) -> int:
    """The smallest of 32/64/128/256/512 tokens that holds 95% of the texts."""
    if not texts:
        return 128
    counts = sorted(estimate_tokens(t) for t in texts)
    p95 = counts[min(len(counts) - 1, math.ceil(0.95 * len(counts)) - 1)]
    return next((n for n in _LENGTHS if n >= p95), _LENGTHS[-1])


def rename_headerless(sample: Sample, columns: list[Column]) -> list[str]:
    """Names for a file without a header: `id`, `label`, the texts by language (`en`, `zh`) when
    they differ, else `text` or `text_1`, `text_2`; what is left keeps `column_N`."""
    names = {c.path: c.path for c in columns}
    texts = [c for c in columns if c.kind == "text"]
    languages = [c.language for c in texts]
    if len(set(languages)) == len(texts) > 1:
        names.update({c.path: str(c.language) for c in texts})
    elif len(texts) == 1:
        names[texts[0].path] = "text"
    else:
        names.update({c.path: f"text_{i + 1}" for i, c in enumerate(texts)})
    ids = [c for c in columns if c.kind == "id"]
    if len(ids) == 1:
        names[ids[0].path] = "id"
    candidates = rank_labels(columns)
    if candidates:
        names[candidates[0].path] = "label"
    for column in columns:
        column.path = names[column.path]
    for record in sample.records:
        for old, new in list(names.items()):
            if old != new and old in record:
                record[new] = record.pop(old)
    return [names[f"column_{i + 1}"] for i in range(len(names))]


def find_column(columns: list[Column], path: str, flag: str) -> Column:
    for column in columns:
        if column.path == path:
            return column
    known = ", ".join(c.path for c in columns)
    raise DataError(f"{flag} {path!r}: no such field in the data (fields: {known})")


def text_columns(columns: list[Column], exclude: set[str]) -> list[Column]:
    """Free-text columns, the richest first."""
    texts = [c for c in columns if c.kind == "text" and c.path not in exclude]
    return sorted(texts, key=lambda c: (-c.mean_tokens * c.distinct_share, c.order))


def describe_candidate(candidate: LabelCandidate) -> str:
    return f"'{candidate.path}' ({candidate.reason})"


def task_of(candidate: LabelCandidate) -> str:
    return {"multi": "multilabel", "number": "regression"}.get(candidate.kind, "classification")


LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}


def seq2seq_prompt(source: str, target: str) -> str:
    """The line a decoder reads before writing the target: the languages' names for a translation
    ('English: {text}\nChinese:'), else a text and its summary."""
    if source != target and source in LANGUAGE_NAMES and target in LANGUAGE_NAMES:
        return f"{LANGUAGE_NAMES[source]}: {{text}}\n{LANGUAGE_NAMES[target]}:"
    return "Text: {text}\nSummary:"


def get_value(record: dict[str, Any], path: str) -> Any:
    from tunesmith.data.fields import get_path, is_empty

    value = get_path(record, path)
    return None if is_empty(value) else value


def text_at(record: dict[str, Any], path: str | list[str] | None) -> str | None:
    value = get_value(record, path) if isinstance(path, str) else None
    return None if value is None else str(value)


def plain_text(text: str, ner_format: str | None) -> str:
    """word/tag text as the model reads it: the words only."""
    if ner_format != "word_tag":
        return text
    return "".join(piece.rsplit("/", 1)[0] for piece in text.split())
