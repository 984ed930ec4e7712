"""Map a raw record to text and label: dotted paths, list fields and text templates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_MISSING = object()
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class FieldMissing(KeyError):
    """A field the recipe names is absent or empty in a record."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def get_path(record: Any, path: str) -> Any:
    """Follow a dotted path (`examination_results.temperature`) through dicts and list indexes."""
    if type(record) is dict and "." not in path:  # the common case, once per field and record
        return record.get(path, _MISSING)
    node = record
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


# Cells that spreadsheets, pandas and databases write for "no value" (pandas' own list, trimmed).
NULL_TOKENS = frozenset(
    {
        "",
        "nan",
        "NaN",
        "NAN",
        "null",
        "NULL",
        "Null",
        "None",
        "none",
        "NA",
        "N/A",
        "n/a",
        "#N/A",
        "<NA>",
        "-nan",
    }
)


def is_empty(value: Any) -> bool:
    """Absent, None, NaN, an empty list/object, or a string that spells "no value" ("NaN", "null")."""
    if value is _MISSING or value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from a tabular reader
        return True
    if isinstance(value, str):
        return value.strip() in NULL_TOKENS
    return isinstance(value, list | dict) and len(value) == 0


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def is_flag_map(value: Any) -> bool:
    """A dict whose values are all true/false: a symptom map ({"发热": true, "头痛": false})."""
    return isinstance(value, dict) and bool(value) and all(isinstance(v, bool) for v in value.values())


def _flags_text(flags: dict[str, bool], list_separator: str) -> str:
    """The keys that are true, then the ones that are false as "no X" ("无X" for a Chinese key)."""
    present = [str(k) for k, v in flags.items() if v]
    absent = [f"无{k}" if _CJK.match(str(k)) else f"no {k}" for k, v in flags.items() if not v]
    return list_separator.join(present + absent)


def as_text(value: Any, list_separator: str) -> str:
    if isinstance(value, list):
        return list_separator.join(as_text(v, list_separator) for v in value if not is_empty(v))
    if is_flag_map(value):
        return _flags_text(value, list_separator)
    if isinstance(value, dict):
        return list_separator.join(f"{k}: {as_text(v, list_separator)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def required(record: Any, path: str) -> Any:
    value = get_path(record, path)
    if is_empty(value):
        raise FieldMissing(path)
    return value


FieldTransform = Callable[[str, str], str]


def _same(_path: str, text: str) -> str:
    return text


def _placeholder(match: re.Match[str]) -> tuple[str, bool]:
    """(field path, optional): `{field?}` may be missing or empty, `{field}` may not."""
    name = match.group(1).strip()
    return (name[:-1].strip(), True) if name.endswith("?") else (name, False)


def render_template(
    template: str, record: Any, list_separator: str, transform: FieldTransform = _same
) -> str:
    """Fill `{field}` / `{nested.field}` placeholders; a missing field raises FieldMissing, a
    missing optional one (`{field?}`) gives an empty string."""

    def fill(match: re.Match[str]) -> str:
        path, optional = _placeholder(match)
        value = get_path(record, path)
        if is_empty(value):
            if optional:
                return ""
            raise FieldMissing(path)
        return transform(path, as_text(value, list_separator))

    return _PLACEHOLDER.sub(fill, template)


def template_fields(template: str) -> list[str]:
    """The field paths a text template reads, in order, without repeats."""
    return list(dict.fromkeys(_placeholder(m)[0] for m in _PLACEHOLDER.finditer(template)))


def row_columns(record: Any, template: str) -> dict[str, Any]:
    """The raw values of the columns a text template reads (None for a missing or empty one):
    what gradient-boosted trees read of a row."""
    values = {name: get_path(record, name) for name in template_fields(template)}
    return {name: None if is_empty(value) else value for name, value in values.items()}


def extract_text(
    record: Any,
    fields: str | list[str] | None,
    template: str | None,
    list_separator: str,
    transform: FieldTransform = _same,
    joiner: str = "\n",
) -> str:
    """The record's text; `transform(path, text)` is applied to each field's text on the way
    (cleaning and de-identification work per field, so a column policy applies to its column)."""
    if template:
        return render_template(template, record, list_separator, transform)
    names = [fields] if isinstance(fields, str) else list(fields or [])
    parts = [transform(name, as_text(required(record, name), list_separator)) for name in names]
    return joiner.join(part for part in parts if part)


def parse_time(value: Any) -> float:
    """Seconds since the epoch from a number (s or ms) or a date/time string; ValueError if neither."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            import pandas as pd

            try:
                stamp = pd.Timestamp(text)
            except (ValueError, TypeError):
                raise ValueError(f"not a time: {text!r}") from None
            if pd.isna(stamp):
                raise ValueError(f"not a time: {text!r}") from None
            if stamp.tzinfo is None:
                stamp = stamp.tz_localize("UTC")
            return float(stamp.timestamp())
    return number / 1000.0 if number > 1e11 else number
