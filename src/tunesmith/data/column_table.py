"""A record's fields as the numbers trees and linear models read.

Fitted on the training rows and stored beside the model (`features.json`), so that every later
row - validation, test, a request - becomes the same columns in the same order:
- numbers stay numbers (booleans are 0/1);
- short repeated strings become categories, coded by the training rows' values (an unseen value
  is missing, as LightGBM treats NaN);
- dates and times become three numbers: seconds since 1970, hour of day, day of week (fraud
  clusters at night; a date string as a category would be unique per row);
- lists of items (a visit's symptoms) become one column per item: 1 when the row lists it, 0
  when it does not (missing when the row has no list);
- objects (an item -> value map such as {"fever": true, "cough": false}, or nested fields)
  become one column per key, dotted for nested ones: true is 1, false -1, a number itself, a
  key the row does not mention missing; a text value counts as the item "key=value";
- free text (several words a value, mostly unique) and id-like strings are left out: trees
  cannot read them, and the report says so.
An item or key needs two training rows to become a column, and a list or object keeps its
`MAX_ITEMS` most frequent ones.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tunesmith import atomic

MAX_CATEGORIES = 250  # more distinct strings than this: not a category
MAX_ITEMS = 1000  # the most frequent items of a list column (keys of an object column) kept
MIN_ROWS = 2  # rows an item or key must appear in to become a column
FREE_TEXT_WORDS = 3.0  # mean words per value from which a string column is prose
UNIQUE_SHARE = 0.5  # prose whose values are mostly unique is free text, however few the rows
SHARE = 0.95  # the share of a column's values that must read as numbers (or dates) to be ones
DATE_PARTS = ("time", "hour", "weekday")


# a date as tables write it: 2019-01-01, 2019/1/1, 01/31/2019, 31.01.19, 2019年1月1日 (a time may follow)
_DATE_SHAPE = r"^\s*(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and value != value)


def _numbers(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values.astype(float)
    return pd.to_numeric(values.map(lambda v: float(v) if isinstance(v, bool) else v), errors="coerce")


def _dates(values: pd.Series) -> pd.Series:
    """Datetimes (UTC) of string values; NaT where a value is not one."""
    import warnings

    with warnings.catch_warnings():  # "could not infer format": each value is then parsed alone
        warnings.simplefilter("ignore")
        return pd.to_datetime(values.astype("string"), errors="coerce", utc=True, format="mixed")


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, float | str]:
    """An object's leaves by dotted key: true 1, false -1, numbers as they are, anything else as text."""
    found: dict[str, float | str] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            found.update(flatten(item, f"{name}."))
        elif isinstance(item, bool):
            found[name] = 1.0 if item else -1.0
        elif isinstance(item, int | float) and _present(item):
            found[name] = float(item)
        elif _present(item) and not isinstance(item, list):
            found[f"{name}={item}"] = 1.0  # a text value: the item "key=value"
        elif isinstance(item, list):
            found.update({f"{name}[{v}]": 1.0 for v in item if _present(v)})
    return found


def _items(value: list[Any]) -> set[str]:
    """The distinct items of a list (nested lists and objects are not items)."""
    return {str(v) for v in value if _present(v) and not isinstance(v, dict | list)}


def _frequent(counts: Counter[str]) -> list[str]:
    kept = [name for name, n in counts.most_common(MAX_ITEMS) if n >= MIN_ROWS]
    return sorted(kept)


class ShapeError(ValueError):
    """A field holds another shape than in training (text where a list of items was)."""

    def __init__(self, column: str, wanted: str, value: Any) -> None:
        super().__init__(
            f"field '{column}' must be {wanted} (as in the training data), got {type(value).__name__}"
        )
        self.column = column


@dataclass
class ColumnTable:
    numeric: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    items: dict[str, list[str]] = field(default_factory=dict)  # list column -> its items
    keys: dict[str, list[str]] = field(default_factory=dict)  # object column -> its dotted keys
    left_out: dict[str, str] = field(default_factory=dict)  # column -> why the trees do not read it

    @classmethod
    def fit(cls, rows: Sequence[dict[str, Any]]) -> ColumnTable:
        """Decide each column's kind from the training rows (`columns` of prepared records)."""
        table = cls()
        frame = pd.DataFrame(list(rows))
        for name in frame.columns:
            present = frame[name].dropna()
            if present.empty:
                table.left_out[name] = "always empty"
                continue
            if present.map(lambda v: isinstance(v, list)).mean() >= SHARE:
                counts: Counter[str] = Counter()
                for value in present:
                    if isinstance(value, list):
                        counts.update(_items(value))
                table.items[name] = _frequent(counts)
                continue
            if present.map(lambda v: isinstance(v, dict)).mean() >= SHARE:
                counts = Counter()
                for value in present:
                    if isinstance(value, dict):
                        counts.update(flatten(value).keys())
                table.keys[name] = _frequent(counts)
                continue
            present = present[present.map(lambda v: not isinstance(v, list | dict))]
            if present.empty:
                table.left_out[name] = "lists and objects of mixed shapes"
                continue
            if _numbers(present).notna().mean() >= SHARE:
                table.numeric.append(name)
                continue
            text = present.astype(str)
            distinct = text.nunique()
            sample = text.sample(min(len(text), 2000), random_state=0)
            prose = text.str.split().str.len().mean() >= FREE_TEXT_WORDS
            if sample.str.match(_DATE_SHAPE).mean() >= SHARE and _dates(sample).notna().mean() >= SHARE:
                table.dates.append(name)
            elif distinct <= MAX_CATEGORIES and not (prose and distinct > UNIQUE_SHARE * len(text)):
                table.categories[name] = sorted(text.unique())
            elif prose:
                table.left_out[name] = f"free text ({distinct:,} distinct values): the transformer reads it"
            else:
                table.left_out[name] = f"{distinct:,} distinct values: an id or a name, not a category"
        return table

    @property
    def free_text(self) -> list[str]:
        return [name for name, why in self.left_out.items() if why.startswith("free text")]

    @property
    def structured(self) -> list[str]:
        """The list and object columns: their items and keys are columns of their own."""
        return [*self.items, *self.keys]

    @property
    def feature_names(self) -> list[str]:
        names = [*self.numeric, *self.categories]
        names += [f"{name}.{part}" for name in self.dates for part in DATE_PARTS]
        names += [f"{name}[{item}]" for name, items in self.items.items() for item in items]
        names += [f"{name}.{key}" for name, keys in self.keys.items() for key in keys]
        return names

    @property
    def categorical(self) -> list[int]:
        """Positions of the category columns among the features (LightGBM splits them by value)."""
        return list(range(len(self.numeric), len(self.numeric) + len(self.categories)))

    @property
    def read(self) -> list[str]:
        """The columns the trees read, in order."""
        return [*self.numeric, *self.categories, *self.dates, *self.items, *self.keys]

    def check(self, row: dict[str, Any]) -> None:
        """ShapeError when a list or object column holds something else (None is missing: allowed)."""
        for name in self.items:
            value = row.get(name)
            if _present(value) and not isinstance(value, list):
                raise ShapeError(name, "a list of items", value)
        for name in self.keys:
            value = row.get(name)
            if _present(value) and not isinstance(value, dict):
                raise ShapeError(name, "an object of item -> value", value)

    def features(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        """float32 features of `rows` (a missing or unreadable value is NaN)."""
        frame = pd.DataFrame(list(rows), columns=self.read)
        parts = [_numbers(frame[name]).to_numpy(dtype=np.float64) for name in self.numeric]
        for name, values in self.categories.items():  # a value not seen in training: missing
            code = {value: float(i) for i, value in enumerate(values)}
            cells = frame[name].tolist()
            parts.append(np.asarray([code.get(str(v), np.nan) if _present(v) else np.nan for v in cells]))
        for name in self.dates:
            stamps = _dates(frame[name])
            parts.append(
                np.asarray([np.nan if pd.isna(t) else t.timestamp() for t in stamps], dtype=np.float64)
            )
            parts.append(stamps.dt.hour.to_numpy(dtype=np.float64, na_value=np.nan))
            parts.append(stamps.dt.day_of_week.to_numpy(dtype=np.float64, na_value=np.nan))
        columns = [np.column_stack(parts)] if parts else []
        for name, items in self.items.items():
            columns.append(self._item_block(frame[name].tolist(), items))
        for name, keys in self.keys.items():
            columns.append(self._key_block(frame[name].tolist(), keys))
        if not columns:
            return np.zeros((len(rows), 0), dtype=np.float32)
        return np.column_stack(columns).astype(np.float32)

    @staticmethod
    def _item_block(cells: list[Any], items: list[str]) -> np.ndarray:
        position = {item: j for j, item in enumerate(items)}
        block = np.zeros((len(cells), len(items)), dtype=np.float64)
        for i, cell in enumerate(cells):
            if not isinstance(cell, list):
                block[i] = np.nan
                continue
            for value in cell:
                j = position.get(str(value))
                if j is not None:
                    block[i, j] = 1.0
        return block

    @staticmethod
    def _key_block(cells: list[Any], keys: list[str]) -> np.ndarray:
        position = {key: j for j, key in enumerate(keys)}
        block = np.full((len(cells), len(keys)), np.nan, dtype=np.float64)
        for i, cell in enumerate(cells):
            if not isinstance(cell, dict):
                continue
            for key, value in flatten(cell).items():
                j = position.get(key)
                if j is not None and isinstance(value, float):
                    block[i, j] = value
        return block

    def describe(self) -> str:
        kinds = [
            f"{len(self.numeric)} numeric" if self.numeric else "",
            f"{len(self.categories)} categorical" if self.categories else "",
            f"{len(self.dates)} date (time, hour, weekday)" if self.dates else "",
        ]
        plain = ", ".join(k for k in kinds if k)
        parts = [f"{plain} columns"] if plain else []
        parts += [f"{len(items)} item columns of {name}" for name, items in self.items.items()]
        parts += [f"{len(keys)} key columns of {name}" for name, keys in self.keys.items()]
        line = "; ".join(parts) or "no columns"
        if self.left_out:
            line += "; left out: " + ", ".join(f"{n} ({why})" for n, why in self.left_out.items())
        return line

    def as_json(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "categories": self.categories,
            "dates": self.dates,
            "items": self.items,
            "keys": self.keys,
            "left_out": self.left_out,
        }

    def save(self, path: Path) -> None:
        atomic.write_json(path, self.as_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnTable:
        return cls(
            data["numeric"],
            data["categories"],
            data["dates"],
            data.get("items", {}),
            data.get("keys", {}),
            data["left_out"],
        )

    @classmethod
    def load(cls, path: Path) -> ColumnTable:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
