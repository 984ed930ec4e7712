"""Roles of profiled columns: which could be the label (and how likely), which give the label
away, which group records (a document, a patient), and which a row template should read."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from tunesmith.data.columns import QUASI_IDENTIFIERS, Column

_STRONG = frozenset(
    [
        "label",
        "labels",
        "target",
        "class",
        "y",
        "outcome",
        "diagnosis",
        "disease",
        "sentiment",
        "intent",
        "is_fraud",
        "isfraud",
        "fraud",
        "risk_level",
        "emotion",
        "polarity",
        "rating",
        "stars",
        "gold",
        "answer_label",
    ]
)
_WEAK = frozenset(
    [
        "category",
        "categories",
        "tag",
        "tags",
        "type",
        "domain",
        "topic",
        "level",
        "grade",
        "status",
        "result",
        "score",
        "class_name",
    ]
)
_GROUP_NAMES = frozenset(
    [
        "doc",
        "document",
        "doc_id",
        "document_id",
        "patient",
        "patient_id",
        "user",
        "user_id",
        "customer",
        "customer_id",
        "session",
        "session_id",
        "conversation",
        "conversation_id",
        "dialog",
        "dialogue",
        "thread",
        "ticket",
        "contract",
        "group",
    ]
)
_SPLIT_NAME = re.compile(r"[_\W]+|(?<=[a-z])(?=[A-Z])")
MAX_LABELS = 500
REGRESSION_VALUES = 20  # a numeric target with more distinct values than this is a number to predict


def name_parts(name: str) -> set[str]:
    return {part.lower() for part in _SPLIT_NAME.split(name) if part}


def name_weight(name: str) -> int:
    """How strongly a column's name says "label": 15 (label, intent, is_fraud ...), 8 (category,
    type ...), 6 or 4 when such a word is part of the name (unfair_categories), else 1."""
    lowered = name.lower()
    if lowered in _STRONG:
        return 15
    if lowered in _WEAK:
        return 8
    parts = name_parts(name)
    if parts & _STRONG:
        return 6
    if parts & _WEAK:
        return 4
    return 1


def _entropy(counts: Counter[str]) -> float:
    total = sum(counts.values())
    return -sum(n / total * math.log(n / total) for n in counts.values() if n)


@dataclass(frozen=True)
class LabelCandidate:
    column: Column
    kind: str  # "single", "multi" (lists), "number" (regression)
    score: float
    reason: str

    @property
    def path(self) -> str:
        return self.column.path


def label_candidate(column: Column, last: bool) -> LabelCandidate | None:
    """The column as a label, or None when it cannot be one (an id, free text, too many values)."""
    if column.present < 0.5 * column.rows or column.kind in ("id", "text", "empty", "constant"):
        return None
    weight = name_weight(column.name)
    bonus = 0.5 if last else 0.0
    if column.kind == "list":
        items = column.items()
        if not 2 <= len(items) <= MAX_LABELS or sum(items.values()) < 2 * len(items):
            return None
        shown = f"lists of {len(items)} distinct names"
        return LabelCandidate(column, "multi", weight + min(_entropy(items), 3) / 3 + bonus, shown)
    if column.kind not in ("category", "number"):
        return None
    counts = column.counts
    if column.kind == "number" and len(counts) > REGRESSION_VALUES:
        if weight < 8:  # a table's many numeric columns are inputs unless one is named as a target
            return None
        shown = f"a number with {len(counts):,} distinct values, named like a target"
        return LabelCandidate(column, "number", weight + bonus, shown)
    if not 2 <= len(counts) <= min(MAX_LABELS, max(2, column.present // 3)):
        return None
    shown = f"{len(counts)} values, the largest {counts.most_common(1)[0][1] / column.present:.0%}"
    return LabelCandidate(column, "single", weight + min(_entropy(counts), 3) / 3 + bonus, shown)


def rank_labels(columns: list[Column]) -> list[LabelCandidate]:
    last = max((c.order for c in columns), default=-1)
    found = [label_candidate(c, c.order == last) for c in columns]
    return sorted((c for c in found if c is not None), key=lambda c: -c.score)


NEAR_ONE_TO_ONE = 3  # a leak has at most this many values per label value


def gives_label_away(column: Column, label: Column) -> bool:
    """True when the column maps (nearly) one-to-one onto the label: its repeated values each go
    with one label only, and it has few values per label value (a treatment plan that names the
    diagnosis, the raw tags a category was derived from). Inputs that merely predict the label
    well - many symptom combinations per disease - have many values per label and are kept."""
    if column is label or column.kind in ("id", "empty", "constant", "text"):
        return False
    pairs = [(c, k) for c, k in zip(column.keys, label.keys, strict=True) if c is not None and k is not None]
    if len(pairs) < 20:
        return False
    seen = Counter(c for c, _ in pairs)
    repeated = [(c, k) for c, k in pairs if seen[c] >= 2]
    if len(repeated) < 0.5 * len(pairs):
        return False
    labels_of: dict[str, set[str]] = defaultdict(set)
    for value, key in repeated:
        labels_of[value].add(key)
    label_values = len({k for _, k in repeated})
    if len(labels_of) > NEAR_ONE_TO_ONE * label_values:
        return False
    return len(labels_of) >= 2 and all(len(keys) == 1 for keys in labels_of.values())


def group_column(columns: list[Column], exclude: set[str]) -> Column | None:
    """A column whose equal values come in one run each - the sentences of a document, the visits
    of a patient - so splitting by it keeps near copies out of test; named like one, or with
    groups of five records or more."""
    found = []
    for column in columns:
        if column.path in exclude or not column.contiguous:
            continue
        mean_size = column.present / max(column.distinct, 1)
        if column.name.lower() in _GROUP_NAMES or mean_size >= 5:
            found.append((column.name.lower() in _GROUP_NAMES, mean_size, column))
    return max(found, key=lambda f: (f[0], f[1]))[2] if found else None


def repeats_another(column: Column, columns: list[Column]) -> Column | None:
    """A flags column whose true keys are exactly a list column's items (MuZhi's
    explicit_symptoms against symptoms): reading both says the same thing twice."""
    if column.kind != "flags":
        return None
    for other in columns:
        if other.kind != "list":
            continue
        same = sum(
            isinstance(f, dict) and isinstance(items, list) and {k for k, v in f.items() if v} == set(items)
            for f, items in zip(column.values, other.values, strict=True)
        )
        if same >= 0.95 * column.present:
            return other
    return None


PERSONAL_POLICY = {"DATE_OF_BIRTH": "generalize", **dict.fromkeys(QUASI_IDENTIFIERS, "generalize")}


def personal_policy(column: Column) -> str:
    """generalize keeps what a model can use (a birth year, a zip region); the rest are masked."""
    return PERSONAL_POLICY.get(column.personal or "", "mask")


TEMPLATE_KINDS = ("number", "category", "datetime", "list", "flags", "text")


def template_inputs(columns: list[Column], excluded: set[str]) -> tuple[list[Column], dict[str, str]]:
    """The columns a row template reads, and why each other column is left out."""
    chosen: list[Column] = []
    left_out: dict[str, str] = {}
    for column in columns:
        if column.path in excluded:
            continue
        repeated = repeats_another(column, columns)
        if column.kind not in TEMPLATE_KINDS:
            left_out[column.path] = f"{column.kind}: not read by the model"
        elif column.kind == "datetime" and column.numeric:
            left_out[column.path] = "a Unix time: a number the model cannot read as a date"
        elif column.personal and personal_policy(column) == "mask":
            left_out[column.path] = f"personal ({column.personal}): masked, so it carries nothing"
        elif repeated is not None:
            left_out[column.path] = f"repeats {repeated.path}"
        else:
            chosen.append(column)
    return chosen, left_out
