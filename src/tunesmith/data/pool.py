"""The accepted records of the prepare stage: a JSONL file on disk plus a few compact numbers per
record in memory (byte offset, length, split, stratification key, dedup key).

Nothing holds all texts in memory, and nothing memory-maps the whole file: a record is read back
by its offset when it is needed (duplicate candidates, samples), and the splits are written in
one sequential pass. That keeps peak memory flat as files grow.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.data.dedup import DedupIndex, TextHashes

SPLIT_CODES = {"train": 0, "validation": 1, "test": 2, "": 3}  # 3: not fixed by the data
FREE = 3
DEDUP = "(dedup text)"  # the column name that reads `dedup_text` of each record


def dedup_text(record: dict[str, Any]) -> str:
    """What duplicates are judged on: the text, plus the second text of a two-text task (the same
    question with another candidate answer is a different example)."""
    pair = record.get("text_pair")
    return record["text"] if pair is None else f"{record['text']}\n{pair}"


def _json_line(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False) + "\n").encode("utf-8")


@lru_cache(maxsize=4096)
def _label_line(label: str) -> bytes:
    """A class name's JSON line: the same few names repeat in every batch."""
    return _json_line(label)


@dataclass
class PooledRecords:
    """Parsed records ready for `Pool.extend`: their JSON lines (as the split files will hold
    them), their labels' JSON, and per record what the pool keeps in memory, in the same order."""

    lines: list[bytes] = field(default_factory=list)
    labels: list[bytes] = field(default_factory=list)
    line_sizes: array = field(default_factory=lambda: array("I"))
    text_lengths: array = field(default_factory=lambda: array("I"))
    fixed: array = field(default_factory=lambda: array("b"))
    strata: list[str] = field(default_factory=list)
    kept: dict[str, list[Any]] = field(default_factory=dict)  # the fields the split method needs
    hashes: TextHashes | None = None  # for the duplicate search, when it is on

    def __len__(self) -> int:
        return len(self.line_sizes)

    def append(self, record: dict[str, Any], stratum: str) -> str:
        """Add one parsed record (its `split` goes to `fixed`, not into the line); return the text
        its duplicates are judged on."""
        self.fixed.append(SPLIT_CODES[record.pop("split")])
        encoded = _json_line(record)
        self.lines.append(encoded)
        label = record["label"]
        self.labels.append(_label_line(label) if isinstance(label, str) else _json_line(label))
        self.line_sizes.append(len(encoded))
        self.text_lengths.append(len(record["text"]))
        self.strata.append(stratum)
        for name, values in self.kept.items():
            values.append(record.get(name))
        return dedup_text(record)


class Pool:
    """Append parsed records with `extend`; then read them back by position or in order."""

    def __init__(self, folder: Path, dedup: bool, keep: Sequence[str] = ()) -> None:
        self.path = folder / "accepted.jsonl"
        self.labels_path = folder / "labels.jsonl"  # each record's label, line by line
        self._writer = self.path.open("wb")
        self._label_writer = self.labels_path.open("wb")
        self._reader: Any = None
        self._reader_pid = 0
        self.offsets = array("Q")
        self.lengths = array("I")
        self.fixed = array("b")
        self.strata = array("I")
        self.strata_names: dict[str, int] = {}
        self.kept_fields: dict[str, list[Any]] = {name: [] for name in keep}  # group/time/id, when needed
        self.index = DedupIndex(folder) if dedup else None
        self._end = 0

    def __len__(self) -> int:
        return len(self.offsets)

    def extend(self, records: PooledRecords) -> None:
        """Append records parsed elsewhere (a worker process), after those already here."""
        self._writer.write(b"".join(records.lines))
        self._label_writer.write(b"".join(records.labels))
        sizes = np.frombuffer(records.line_sizes, dtype=np.uint32).astype(np.uint64)
        self.offsets.frombytes((np.cumsum(sizes) - sizes + np.uint64(self._end)).tobytes())
        self._end += int(sizes.sum())
        self.lengths.extend(records.text_lengths)
        self.fixed.extend(records.fixed)
        names = self.strata_names
        self.strata.extend(names.setdefault(stratum, len(names)) for stratum in records.strata)
        for name, values in self.kept_fields.items():
            values.extend(records.kept[name])
        if self.index is not None and records.hashes is not None:
            self.index.add_hashed(records.hashes)

    def close(self) -> None:
        self._writer.close()
        self._label_writer.close()
        if self.index is not None:
            self.index.close()

    def record(self, position: int) -> dict[str, Any]:
        if self._reader is None or self._reader_pid != os.getpid():  # a forked worker opens its own
            self._reader, self._reader_pid = self.path.open("rb"), os.getpid()
        self._reader.seek(self.offsets[position])
        return json.loads(self._reader.readline())

    def column(self, name: str) -> PoolColumn:
        """One field, or `DEDUP` for the text duplicates are judged on."""
        return PoolColumn(self, name)

    def lines(self) -> Iterator[tuple[bytes, bytes]]:
        """Every record's JSON line and its label's, in order, unparsed."""
        with self.path.open("rb") as records, self.labels_path.open("rb") as labels:
            yield from zip(records, labels, strict=True)

    def array(self, name: str) -> np.ndarray:
        return np.frombuffer(
            getattr(self, name), dtype={"lengths": np.uint32, "fixed": np.int8, "strata": np.uint32}[name]
        )


class PoolColumn(Sequence[Any]):
    """One field of the pool, read lazily by position (the dedup step reads candidates only)."""

    def __init__(self, pool: Pool, name: str) -> None:
        self.pool = pool
        self.name = name

    def __len__(self) -> int:
        return len(self.pool)

    def __getitem__(self, position: Any) -> Any:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        record = self.pool.record(int(position))
        return dedup_text(record) if self.name == DEDUP else record[self.name]
