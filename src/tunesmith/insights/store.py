"""Where the scores go, incrementally: the enriched file (`scored.jsonl` in the output folder: each
record with its text as scored - de-identified - and label, score, scored_at) or a table in the
source's own database (`<table>_insights`: key, label, score, de-identified text, time).

The watermark is the output itself: the keys (and the latest time) already scored are read from
it, so the two can never disagree. A file is replaced whole and atomically; a table gets a run's
rows in one transaction. A second run scores only what is not there yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.errors import TunesmithError

ENRICHED_FILE = "scored.jsonl"
FIELDS = ("label", "score", "scored_at")  # added to each record (and `_key`)


class FileStore:
    def __init__(self, out: Path) -> None:
        self.path = out / ENRICHED_FILE
        self.where = str(self.path)
        self._lines: list[str] = []
        self._records: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                try:
                    record = json.loads(line)
                    self._records[str(record["_key"])] = record
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise TunesmithError(
                        f"{self.path}:{number}: not a line this command wrote; move the file away to "
                        "score everything again"
                    ) from None
                self._lines.append(line)

    def scored(self) -> dict[str, dict[str, Any]]:
        """Key -> the enriched record."""
        return self._records

    def add(self, records: list[dict[str, Any]]) -> None:
        lines = [json.dumps(r, ensure_ascii=False, default=str) for r in records]
        atomic.write_text(self.path, "".join(f"{line}\n" for line in [*self._lines, *lines]))
        self._lines += lines
        self._records.update({str(r["_key"]): r for r in records})


class TableStore:
    """Scores in `<table>_insights` of the source's database, keyed by the source's id column."""

    def __init__(self, engine: Any, table: str, name: str | None = None) -> None:
        from sqlalchemy import Column, Float, MetaData, String, Table, Text

        self.engine = engine
        self.name = name or f"{table}_insights"
        self.where = f"table {self.name}"
        meta = MetaData()
        self.table = Table(
            self.name,
            meta,
            Column("key", String(200), primary_key=True),
            Column("label", String(200)),
            Column("score", Float),
            Column("text", Text),
            Column("time", String(40)),
            Column("run", Text),
            Column("scored_at", String(40)),
        )
        meta.create_all(engine)

    def scored(self) -> dict[str, dict[str, Any]]:
        from sqlalchemy import select

        with self.engine.connect() as connection:
            rows = connection.execute(select(self.table)).mappings()
            return {str(r["key"]): dict(r) for r in rows}

    def add(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        rows = [
            {
                "key": r["_key"],
                "label": r["label"],
                "score": r["score"],
                "text": r["_text"],
                "time": r.get("_time"),
                "run": r["_run"],
                "scored_at": r["scored_at"],
            }
            for r in records
        ]
        with self.engine.begin() as connection:  # all of this run's rows, or none
            connection.execute(self.table.insert(), rows)
