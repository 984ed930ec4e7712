"""A sample of a data file (or folder) for `init`: records spread over the whole file, in file order,
and whether a CSV/TSV has a header row.

The sample is a seeded reservoir over every record (up to `MAX_READ`), so a file sorted by label
(banking77) shows all its labels, and it is kept in file order, so a column whose values come in
runs (the sentences of one document) still does in the sample.
"""

from __future__ import annotations

import csv
import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.console import progress
from tunesmith.data.encoding import detect_encoding
from tunesmith.data.read import Unreadable, data_files, detect_format, read_records
from tunesmith.errors import DataError

SAMPLE = 2000
MAX_READ = 500_000  # records counted before init stops reading (the count then says "at least")
_HEADER_ROWS = 50
_NAME = re.compile(r"^[^\W\d][\w .\-/()#%]{0,39}$")  # a column name: starts with a letter or _


@dataclass
class Sample:
    path: Path
    records: list[dict[str, Any]]  # in file order
    rows: int  # records read (all of them, unless `complete` is False)
    complete: bool
    formats: list[str]
    files: list[Path]
    headerless: bool = False  # a CSV/TSV whose first row is data: columns named column_1 ...
    unreadable: int = 0
    notes: list[str] = field(default_factory=list)


def _numeric(cell: str) -> bool:
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return False
    return True


def looks_like_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: every cell could be a column name (short, starts
    with a letter, no sentence punctuation, none repeated, none a number), and some column shows
    it - numbers below a name, or values much longer than the name."""
    if len(rows) < 2:
        return True  # a lone row can only be a header
    first, below = [c.strip() for c in rows[0]], rows[1:]
    cells = [c for c in first if c]
    if not cells or len(set(cells)) < len(cells):
        return False
    if any(_numeric(c) or not _NAME.match(c) for c in cells):
        return False
    for j, cell in enumerate(first):
        values = [r[j].strip() for r in below if j < len(r) and r[j].strip()]
        if not cell or not values:
            continue
        if sum(_numeric(v) for v in values) >= 0.9 * len(values):
            return True
        lengths = sorted(len(v) for v in values)
        if lengths[len(lengths) // 2] >= 2 * len(cell) and cell not in values:
            return True
    return False


def _first_rows(path: Path, encoding: str, delimiter: str) -> list[list[str]]:
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        rows = []
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) > _HEADER_ROWS:
                break
    return rows


def headerless_columns(path: Path) -> list[str] | None:
    """Placeholder names (column_1 ...) for a CSV/TSV whose first row is data; None when the file
    has a header row or is not delimited."""
    encoding = detect_encoding(path)
    fmt = detect_format(path, encoding)
    if fmt not in ("csv", "tsv"):
        return None
    rows = _first_rows(path, encoding, "\t" if fmt == "tsv" else ",")
    if not rows or looks_like_header(rows):
        return None
    width = max(len(r) for r in rows)
    return [f"column_{i + 1}" for i in range(width)]


def _reservoir(
    file: Path, columns: list[str] | None, size: int, rng: random.Random, tick: Callable[[], None]
) -> tuple[list[tuple[int, dict[str, Any]]], int, int]:
    """A seeded reservoir of `size` (line, record) pairs over the file's first MAX_READ records;
    the records read; the unreadable ones."""
    kept: list[tuple[int, dict[str, Any]]] = []
    seen = unreadable = 0
    for line, record in read_records(file, columns=columns):
        tick()
        if isinstance(record, Unreadable):
            unreadable += 1
            continue
        seen += 1
        if len(kept) < size:
            kept.append((line, record))
        elif (slot := rng.randrange(seen)) < size:
            kept[slot] = (line, record)
        if seen >= MAX_READ:
            break
    return kept, seen, unreadable


def read_sample(path: Path, seed: int = 42, show: bool = True) -> Sample:
    """Up to SAMPLE records of `path` (a file, or a folder read file by file), in file order."""
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    files = data_files(path)
    per_file = max(SAMPLE // len(files), 50)
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    rows = unreadable = 0
    complete, headerless = True, False
    formats = []
    with progress(total_known=False, show=show) as bar:
        for file in files:
            if not file.stat().st_size:
                continue
            formats.append(detect_format(file, detect_encoding(file)))
            columns = headerless_columns(file)
            headerless = headerless or columns is not None
            job = bar.add_task(f"reading {file.name}", total=None)
            tick = functools.partial(bar.advance, job)
            kept, seen, skipped = _reservoir(file, columns, per_file, rng, tick)
            rows += seen
            unreadable += skipped
            complete = complete and seen < MAX_READ
            records.extend(record for _, record in sorted(kept, key=lambda item: item[0]))
    if not records:
        raise DataError(
            f"{path}: no records: {unreadable} values that are not objects with fields (a JSON list "
            "of plain values is a vocabulary or a label list, not data to train on)"
            if unreadable
            else f"{path}: no records"
        )
    return Sample(path, records, rows, complete, formats, files, headerless, unreadable)
