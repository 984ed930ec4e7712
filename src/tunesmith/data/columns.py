"""What each column of a sample holds, judged from its values (a name only breaks ties).

Kinds: `id` (unique, code-shaped: MZ-train-0001, a row number, a hex hash), `text` (free text:
several words or characters per value, rarely repeated), `category` (few distinct short values),
`number`, `datetime` (dates, or epoch seconds in a time-named column), `list` (of strings or
numbers), `spans` (a list of {start, end, label} objects), `flags` (an object of true/false, like
a symptom map) and `dict` (any other object). Each column gets one line saying why.

Written by hand: profilers (pandas-profiling, Great Expectations) describe types and
distributions, but none says which column is an id, a label or a document, which is what `init`
needs.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tunesmith.data.fields import get_path, is_empty, is_flag_map
from tunesmith.data.language import detect_language
from tunesmith.data.pii.columns import PERSONAL_COLUMN_TYPES, column_type
from tunesmith.data.pii.recognizers import find_pii

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_INTEGRAL_FLOAT = re.compile(r"^[+-]?\d+\.0+$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-:.#/]*$")
_DATE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}年\d{1,2}月\d{1,2}日)"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_ID_NAME = re.compile(r"(^|[_\s.-])(id|ids|uuid|guid|key|no|num|number|index|idx|code)$|^(id|index|idx)$|Id$")
_TIME_NAME = re.compile(r"time|date|_at$|^ts$|timestamp|created|updated|day", re.IGNORECASE)
_QUASI = {"zip": "ZIP", "zipcode": "ZIP", "postcode": "ZIP", "postal_code": "ZIP", "lat": "LOCATION",
          "latitude": "LOCATION", "long": "LOCATION", "lng": "LOCATION", "lon": "LOCATION",
          "longitude": "LOCATION"}  # fmt: skip
QUASI_IDENTIFIERS = frozenset(_QUASI.values())
TEXT_NAMES = frozenset(
    [
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
        "clause",
        "title",
        "answer",
        "context",
        "summary",
        "instruction",
        "response",
    ]
)
TEXT_TOKENS = 3.0  # mean words (or Chinese characters) per value from which a column is free text


def tokens(text: str) -> int:
    """Words in Latin script plus Chinese characters: a length that means the same in both."""
    return len(_WORD.findall(text)) + len(_CJK.findall(text))


def value_key(value: Any) -> str | None:
    """A hashable, comparable form of a value (lists and objects as canonical JSON)."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text.split(".")[0] if _INTEGRAL_FLOAT.match(text) else text  # "1.0" reads as the label 1


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass
class Column:
    path: str
    order: int  # position in the records (CSV column order)
    values: list[Any]  # one per sampled record (None where absent or empty)
    kind: str = "empty"
    reason: str = ""
    personal: str | None = None  # the PII type of the column's values (name or content)
    language: str | None = None
    mean_tokens: float = 0.0
    contiguous: bool = False  # equal values come in one run each (the sentences of a document)
    item_vocabulary: int = 0  # lists: distinct items
    numeric: bool = False  # every value is a number (or a string that reads as one)

    @property
    def rows(self) -> int:
        return len(self.values)

    @property
    def present(self) -> int:
        return sum(v is not None for v in self.values)

    @property
    def sometimes_empty(self) -> bool:
        """Some records lack a value (or hold an empty list): a template must not require it."""
        return any(v is None or v == [] for v in self.values)

    @property
    def keys(self) -> list[str | None]:
        return [value_key(v) for v in self.values]

    @property
    def counts(self) -> Counter[str]:
        return Counter(k for k in self.keys if k is not None)

    @property
    def distinct(self) -> int:
        return len(self.counts)

    @property
    def distinct_share(self) -> float:
        return self.distinct / max(self.present, 1)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def strings(self) -> list[str]:
        return [str(v) for v in self.values if v is not None and not isinstance(v, list | dict)]

    def items(self) -> Counter[str]:
        """Lists: how often each item appears."""
        return Counter(str(item) for v in self.values if isinstance(v, list) for item in v)


def _paths(records: list[dict[str, Any]], prefix: str = "", depth: int = 0) -> list[str]:
    """Field paths in order of first appearance; an object with the same keys in most records
    (a nested `patient: {id, age}`) is opened up, an object of flags or of varying keys is kept."""
    order: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            order.update(dict.fromkeys(record))
    paths: list[str] = []
    for key in order:
        values = [r.get(key) for r in records if isinstance(r, dict) and not is_empty(r.get(key))]
        objects = [v for v in values if isinstance(v, dict) and not is_flag_map(v)]
        if depth < 2 and objects and len(objects) >= 0.5 * len(values):
            keys = Counter(k for v in objects for k in v)
            stable = len(keys) <= 30 and any(n >= 0.5 * len(objects) for n in keys.values())
            if stable:
                paths.extend(_paths(objects, f"{prefix}{key}.", depth + 1))
                continue
        paths.append(f"{prefix}{key}")
    return paths


def _personal(path: str, strings: list[str]) -> str | None:
    """The PII type a column holds: by its name (cc_num, first, dob), as a quasi-identifier
    (zip, lat, long), or by its values (phone numbers, emails in a column named `contact`)."""
    name = path.rsplit(".", 1)[-1].lower()
    kind = column_type(path)
    if kind in PERSONAL_COLUMN_TYPES:
        return kind
    if name in _QUASI:
        return _QUASI[name]
    probe = [s for s in strings[:40] if 5 <= len(s) <= 60]
    if len(probe) >= 5:
        found: Counter[str] = Counter()
        for value in probe:
            for finding in find_pii(value):
                if len(finding.value) >= 0.6 * len(value):
                    found[finding.type] += 1
        if found and found.most_common(1)[0][1] >= 0.5 * len(probe):
            return found.most_common(1)[0][0]
    return None


def _contiguous(keys: list[str | None]) -> bool:
    """Every value's rows form one run (in file order), and values do repeat."""
    present = [k for k in keys if k is not None]
    runs = sum(1 for i, k in enumerate(present) if i == 0 or k != present[i - 1])
    distinct = len(set(present))
    return distinct >= 3 and runs == distinct and len(present) >= 2 * distinct


def _classify_numbers(column: Column, numbers: list[float]) -> None:
    integral = all(n.is_integer() for n in numbers)
    distinct = len(set(numbers))
    share = distinct / len(numbers)
    epoch_s = sum(1e9 <= n <= 2.2e9 for n in numbers) >= 0.95 * len(numbers)
    epoch_ms = sum(1e12 <= n <= 2.2e12 for n in numbers) >= 0.95 * len(numbers)
    if integral and (epoch_s or epoch_ms) and (_TIME_NAME.search(column.name) or share > 0.5):
        column.kind, column.reason = "datetime", "whole numbers in the range of Unix times"
        return
    rising = all(b > a for a, b in itertools.pairwise(numbers))
    named = bool(_ID_NAME.search(column.name)) or not column.name
    if integral and share >= 0.98 and len(numbers) >= 10 and (rising or named):
        why = "counts up row by row" if rising else "is unique in every row"
        column.kind, column.reason = "id", f"a whole number that {why} (a row number or key)"
        return
    column.kind = "number"
    column.reason = f"numbers, {distinct:,} distinct" + (" whole" if integral else "")


def _classify_strings(column: Column, strings: list[str]) -> None:
    distinct = len(set(strings))
    share = distinct / len(strings)
    column.mean_tokens = sum(tokens(s) for s in strings) / len(strings)
    if sum(bool(_DATE.match(s.strip())) for s in strings) >= 0.9 * len(strings):
        column.kind, column.reason = "datetime", "dates or times"
        return
    lowered = {s.strip().lower() for s in strings}
    if lowered <= {"true", "false", "yes", "no", "y", "n", "t", "f"} and len(lowered) >= 2:
        column.kind, column.reason = "category", "true/false"
        return
    code_shaped = sum(bool(_CODE.match(s)) and any(c.isdigit() for c in s) for s in strings)
    named = bool(_ID_NAME.search(column.name)) or not column.name
    if len(strings) >= 10 and (
        (share >= 0.95 and code_shaped >= 0.9 * len(strings)) or (named and share >= 0.9)
    ):
        column.kind = "id"
        column.reason = "unique in nearly every row" + (
            ", code-shaped (letters and digits, no spaces)" if code_shaped else ", named like an id"
        )
        return
    text_named = column.name.lower() in TEXT_NAMES
    if share >= 0.5 and (column.mean_tokens >= TEXT_TOKENS or (text_named and column.mean_tokens >= 1)):
        column.kind = "text"
        column.language = detect_language(strings[:500])
        words = Counter(w for s in strings[:500] for w in _WORD.findall(s.lower()) + _CJK.findall(s))
        diversity = len(words) / max(sum(words.values()), 1)
        column.reason = (
            f"free text ({column.language}): {column.mean_tokens:.0f} words or characters on average, "
            f"{share:.0%} distinct, word diversity {diversity:.2f}"
        )
        return
    column.kind = "category"
    column.reason = f"{distinct:,} distinct short values"
    if column.mean_tokens >= TEXT_TOKENS:
        column.reason += f" ({column.mean_tokens:.0f} words on average, but repeated)"


def classify(column: Column) -> Column:
    present = [v for v in column.values if v is not None]
    if not present:
        column.kind, column.reason = "empty", "no values in the sample"
        return column
    lists = [v for v in present if isinstance(v, list)]
    objects = [v for v in present if isinstance(v, dict)]
    scalars = [v for v in present if not isinstance(v, list | dict)]
    if len(lists) >= 0.5 * len(present):
        if all(isinstance(i, dict) for v in lists for i in v) and any(lists):
            column.kind, column.reason = "spans", "lists of objects"
            return column
        column.kind = "list"
        column.item_vocabulary = len(column.items())
        per_row = sum(len(v) for v in lists) / len(lists)
        column.reason = f"lists of {per_row:.1f} items on average, {column.item_vocabulary:,} distinct items"
        return column
    if len(objects) >= 0.5 * len(present):
        flags = sum(is_flag_map(v) for v in objects)
        column.kind = "flags" if flags >= 0.9 * len(objects) else "dict"
        column.reason = "objects of true/false (a map of findings)" if column.kind == "flags" else "objects"
        return column
    strings = [str(v).strip() for v in scalars]
    column.personal = _personal(column.path, strings)
    if any(isinstance(v, bool) for v in scalars):
        column.kind, column.reason = "category", "true/false"
        return column
    if len(set(strings)) == 1:
        column.kind, column.reason = "constant", f"always {strings[0]!r}"
        return column
    numbers = [_number(v) for v in scalars]
    if all(n is not None for n in numbers):
        column.numeric = True
        _classify_numbers(column, [n for n in numbers if n is not None])
    else:
        _classify_strings(column, strings)
    column.contiguous = column.kind in ("category", "number", "id") and _contiguous(column.keys)
    return column


def profile(records: list[dict[str, Any]]) -> list[Column]:
    """One classified Column per field path of the sampled records."""
    columns = []
    for order, path in enumerate(_paths(records)):
        values = []
        for record in records:
            value = get_path(record, path)
            # an empty list is a value ("none of these" in a multi-label column); other empties are not
            values.append(None if is_empty(value) and not isinstance(value, list) else value)
        columns.append(classify(Column(path, order, values)))
    return columns
