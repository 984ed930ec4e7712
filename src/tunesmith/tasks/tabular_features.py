"""A table's raw columns as the numbers gradient-boosted trees read.

Fitted on the training rows and stored beside the trees (`features.json`), so that every later
row - validation, test, a request - becomes the same columns in the same order:
- numbers stay numbers (booleans are 0/1);
- short repeated strings become categories, coded by the training rows' values (an unseen value
  is missing, as LightGBM treats NaN);
- dates and times become three numbers: seconds since 1970, hour of day, day of week (fraud
  clusters at night; a date string as a category would be unique per row);
- free text (several words a value, mostly unique) and id-like strings are left out: trees
  cannot read them, and the report says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tunesmith import atomic

MAX_CATEGORIES = 250  # more distinct strings than this: not a category
FREE_TEXT_WORDS = 3.0  # mean words per value from which a string column is prose
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


@dataclass
class ColumnTable:
    numeric: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
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
            if _numbers(present).notna().mean() >= SHARE:
                table.numeric.append(name)
                continue
            text = present.astype(str)
            distinct = text.nunique()
            sample = text.sample(min(len(text), 2000), random_state=0)
            if sample.str.match(_DATE_SHAPE).mean() >= SHARE and _dates(sample).notna().mean() >= SHARE:
                table.dates.append(name)
            elif distinct <= MAX_CATEGORIES:
                table.categories[name] = sorted(text.unique())
            elif text.str.split().str.len().mean() >= FREE_TEXT_WORDS:
                table.left_out[name] = f"free text ({distinct:,} distinct values): the transformer reads it"
            else:
                table.left_out[name] = f"{distinct:,} distinct values: an id or a name, not a category"
        return table

    @property
    def free_text(self) -> list[str]:
        return [name for name, why in self.left_out.items() if why.startswith("free text")]

    @property
    def feature_names(self) -> list[str]:
        names = [*self.numeric, *self.categories]
        return names + [f"{name}.{part}" for name in self.dates for part in DATE_PARTS]

    @property
    def categorical(self) -> list[int]:
        """Positions of the category columns among the features (LightGBM splits them by value)."""
        return list(range(len(self.numeric), len(self.numeric) + len(self.categories)))

    @property
    def read(self) -> list[str]:
        """The columns the trees read, in order."""
        return [*self.numeric, *self.categories, *self.dates]

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
        if not parts:
            return np.zeros((len(rows), 0), dtype=np.float32)
        return np.column_stack(parts).astype(np.float32)

    def describe(self) -> str:
        kinds = [
            f"{len(self.numeric)} numeric" if self.numeric else "",
            f"{len(self.categories)} categorical" if self.categories else "",
            f"{len(self.dates)} date (time, hour, weekday)" if self.dates else "",
        ]
        line = ", ".join(k for k in kinds if k) + " columns"
        if self.left_out:
            line += "; left out: " + ", ".join(f"{n} ({why})" for n, why in self.left_out.items())
        return line

    def save(self, path: Path) -> None:
        atomic.write_json(
            path,
            {
                "numeric": self.numeric,
                "categories": self.categories,
                "dates": self.dates,
                "left_out": self.left_out,
            },
        )

    @classmethod
    def load(cls, path: Path) -> ColumnTable:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["numeric"], data["categories"], data["dates"], data["left_out"])
