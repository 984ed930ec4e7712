"""Read records from JSON, JSONL, CSV, TSV, Parquet or plain text lines, one at a time, with
their line numbers.

Every record comes out as `(line, record)`; a record that cannot be parsed comes out as
`(line, Unreadable(reason))` so the caller can quarantine it and carry on. A CSV or TSV without a
header row is read with the names in `columns`. A plain text file (`lines`) gives one record per
line: `{"text": line, "file": the file's name without suffix}`, so a folder with one file per
label (neg.txt, pos.txt) is a labelled set.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from tunesmith.data.encoding import detect_encoding
from tunesmith.errors import DataError

FORMATS = ("json", "jsonl", "csv", "tsv", "parquet", "lines")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
LINES_FILE = "file"  # the field of a `lines` record that holds its file's name (a label, in a folder)

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Unreadable:
    reason: str
    raw: str | None = None


def detect_format(path: Path, encoding: str) -> str:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt == "json":
        with path.open(encoding=encoding, errors="replace") as handle:
            head = handle.read(4096).lstrip()
        lines = [ln for ln in head.splitlines() if ln.strip()]
        if head.startswith("{") and len(lines) > 1 and lines[0].rstrip().endswith("}"):
            return "jsonl"
        return "json"
    if fmt:
        return fmt
    with path.open(encoding=encoding, errors="replace") as handle:
        head = handle.read(4096)
    if path.suffix.lower() == ".txt":
        return "tsv" if _tabbed(head) else "lines"
    first = head.lstrip()[:1]
    if first == "[":
        return "json"
    if first == "{":
        return "jsonl"
    first_line = head.splitlines()[0] if head else ""
    return "tsv" if first_line.count("\t") > first_line.count(",") else "csv"


def _tabbed(head: str) -> bool:
    """True when nearly every line of `head` has the same number (one or more) of tabs: a table."""
    lines = [line for line in head.splitlines()[:50] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a 4 KB sample is usually cut short
    counts = [line.count("\t") for line in lines]
    if not counts or not counts[0]:
        return False
    return sum(c == counts[0] for c in counts) >= 0.9 * len(counts)


_SURROGATE = re.compile("[\udc80-\udcff]")  # undecodable bytes kept by errors="surrogateescape"


def _has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogates(v) for v in value.values()) or any(_has_surrogates(k) for k in value)
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    return False


def jsonl_chunks(path: Path, encoding: str, size: int) -> Iterator[tuple[int, list[str]]]:
    """A JSONL file's lines, `size` at a time, with the number of each chunk's first line; blank
    lines included (the prepare stage reads chunks and its workers parse them with
    `jsonl_records`: splitting lines is all the reading process does)."""
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        first = 1
        while lines := list(islice(handle, size)):
            yield first, lines
            first += len(lines)


def jsonl_records(first: int, lines: list[str], encoding: str) -> Iterator[tuple[int, Any]]:
    """(line, record or Unreadable) of a chunk of JSONL lines starting at line `first`; blank
    lines are skipped."""
    for line_no, line in enumerate(lines, start=first):
        if not line.isspace():
            yield line_no, parse_jsonl_line(line, encoding)


def parse_jsonl_line(line: str, encoding: str) -> Any:
    """One JSONL line as a record, or `Unreadable` with the reason."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return Unreadable(f"broken JSON: {error.msg} at column {error.colno}", line)
    if not isinstance(record, dict):
        return Unreadable("not a JSON object", line)
    # Undecodable bytes are in the line itself; a \udc80 escape only in what it parses to.
    if (not line.isascii() and _SURROGATE.search(line)) or ("\\u" in line and _has_surrogates(record)):
        return Unreadable(f"bytes that are not valid {encoding}")
    return record


def _read_json(path: Path, encoding: str, records_key: str | None) -> Iterator[tuple[int, Any]]:
    try:
        with path.open(encoding=encoding, errors="surrogateescape") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        raise DataError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}). "
            "If it holds one object per line, name it .jsonl or set data.format: jsonl"
        ) from None
    records = document
    if isinstance(document, dict):
        if records_key is not None:
            records = document.get(records_key)
        else:
            lists = [k for k, v in document.items() if isinstance(v, list)]
            if len(lists) != 1:
                raise DataError(
                    f"{path}: a JSON object with {len(lists)} lists; "
                    f"set data.records_key to one of: {', '.join(lists) or '(none)'}"
                )
            records = document[lists[0]]
    if not isinstance(records, list):
        raise DataError(f"{path}: expected a list of records (data.records_key={records_key!r})")
    for index, record in enumerate(records, start=1):
        if isinstance(record, dict):
            yield index, record
        else:
            yield index, Unreadable("not a JSON object", json.dumps(record, ensure_ascii=False))


def _read_delimited(
    path: Path, encoding: str, delimiter: str, columns: list[str] | None = None
) -> Iterator[tuple[int, Any]]:
    """Rows as dicts keyed by the header row, or by `columns` for a file without one."""
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        if columns is not None:
            header, names = list(columns), "data.columns names"
        else:
            first = next(reader, None)
            if first is None:
                return
            header, names = [h.strip() for h in first], "the header has"
        ended = reader.line_num
        for row in reader:
            line_no, ended = ended + 1, reader.line_num  # where the row starts (quoted newlines)
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raw = delimiter.join(row)
                reason = f"row has {len(row)} fields, {names} {len(header)}"
                yield line_no, Unreadable(reason, raw)
                continue
            yield line_no, dict(zip(header, row, strict=True))


def _read_lines(path: Path, encoding: str) -> Iterator[tuple[int, Any]]:
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        for line_no, line in enumerate(handle, start=1):
            text = line.strip()
            if text:
                yield line_no, {"text": text, LINES_FILE: path.stem}


def _read_parquet(path: Path) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq

    index = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            index += 1
            yield index, record


DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ".parquet", ".pq")


def data_files(path: Path) -> list[Path]:
    """`path` itself, or for a folder every data file in it (sorted; each file detects its own
    encoding and format, so one folder may mix UTF-8 and GBK exports)."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES)
    if not files:
        raise DataError(f"{path}: a folder with no data files ({', '.join(DATA_SUFFIXES)})")
    return files


def resolve_format(path: Path, fmt: str = "auto", encoding: str = "auto") -> tuple[str, str]:
    """(format, encoding) of a data file, detected where "auto"; a missing or empty file is a
    DataError."""
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty: there are no records to train on")
    if fmt == "parquet" or (fmt == "auto" and path.suffix.lower() in (".parquet", ".pq")):
        return "parquet", "binary"
    enc = detect_encoding(path) if encoding == "auto" else encoding
    fmt = detect_format(path, enc) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise DataError(f"{path}: unknown format {fmt!r} (allowed: {', '.join(FORMATS)})")
    return fmt, enc


def read_records(
    path: Path,
    fmt: str = "auto",
    encoding: str = "auto",
    records_key: str | None = None,
    columns: list[str] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Yield `(line, record)` pairs; undecodable or unparsable records come as `Unreadable`.
    `columns`: the names of a CSV/TSV's columns when it has no header row."""
    fmt, enc = resolve_format(path, fmt, encoding)
    if fmt == "parquet":
        yield from _read_parquet(path)
        return
    if fmt == "jsonl":
        for first, lines in jsonl_chunks(path, enc, 4096):
            yield from jsonl_records(first, lines, enc)
        return
    if fmt == "json":
        records = _read_json(path, enc, records_key)
    elif fmt in ("csv", "tsv"):
        records = _read_delimited(path, enc, "\t" if fmt == "tsv" else ",", columns)
    else:
        records = _read_lines(path, enc)
    for line_no, record in records:
        if not isinstance(record, Unreadable) and _has_surrogates(record):
            yield line_no, Unreadable(f"bytes that are not valid {enc}")
            continue
        yield line_no, record
