"""The accepted records of the prepare stage: a JSONL file on disk plus a few compact numbers per
record in memory (byte offset, length, split, stratification key, dedup key).

Nothing holds all texts in memory, and nothing memory-maps the whole file: a record is read back
by its offset when it is needed (duplicate candidates, samples), and the splits are written in
one sequential pass. That keeps peak memory flat as files grow.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.data.dedup import DedupIndex

SPLIT_CODES = {"train": 0, "validation": 1, "test": 2, "": 3}  # 3: not fixed by the data
FREE = 3
DEDUP = "(dedup text)"  # the column name that reads `dedup_text` of each record


def dedup_text(record: dict[str, Any]) -> str:
    """What duplicates are judged on: the text, plus the second text of a two-text task (the same
    question with another candidate answer is a different example)."""
    pair = record.get("text_pair")
    return record["text"] if pair is None else f"{record['text']}\n{pair}"


class Pool:
    """Append parsed records with `add`; then read them back by position or in order."""

    def __init__(self, folder: Path, dedup: bool, keep: Sequence[str] = ()) -> None:
        self.path = folder / "accepted.jsonl"
        self._writer = self.path.open("wb")
        self._reader: Any = None
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

    def add(self, record: dict[str, Any], stratum: str) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.offsets.append(self._end)
        self._writer.write(line)
        self._end += len(line)
        self.lengths.append(len(record["text"]))
        self.fixed.append(SPLIT_CODES[record["split"]])
        self.strata.append(self.strata_names.setdefault(stratum, len(self.strata_names)))
        for name, values in self.kept_fields.items():
            values.append(record.get(name))
        if self.index is not None:
            self.index.add(dedup_text(record))

    def close(self) -> None:
        self._writer.close()
        if self.index is not None:
            self.index.close()

    def record(self, position: int) -> dict[str, Any]:
        if self._reader is None:
            self._reader = self.path.open("rb")
        self._reader.seek(self.offsets[position])
        return json.loads(self._reader.readline())

    def column(self, name: str) -> PoolColumn:
        """One field, or `DEDUP` for the text duplicates are judged on."""
        return PoolColumn(self, name)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self.path.open("rb") as handle:
            for line in handle:
                yield json.loads(line)

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
