"""Where the scores go, incrementally: the enriched file (`scored.jsonl` in the output folder: each
record with its text as scored - de-identified - and label, score, scored_at) or a table in the
source's own database (`<table>_insights`: key, label, score, de-identified text, time).

For a file, the watermark is the output itself: the keys (and the latest time) already scored are
read from it, and the file is replaced whole and atomically. A table gets its scores a page at a
time, each page in one transaction with the watermark after it (`table_scan.py`). A second run
scores only what is not there yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.errors import TunesmithError
from tunesmith.insights.table_scan import Mark, TableScan

ENRICHED_FILE = "scored.jsonl"


def scored_view(text: Any, time: Any, label: Any, score: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """What both stores answer for a scored record, whatever they keep on disk."""
    return {"text": text, "time": time, "label": label, "score": score, "fields": fields}


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON keeps it (dates and decimals as text)."""
    return json.loads(json.dumps(row, default=str, ensure_ascii=False))


class FileStore:
    def __init__(self, out: Path, text_column: str) -> None:
        self.text_column = text_column
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
        """Key -> `scored_view` of the enriched record (its own fields as the segments)."""
        return {key: self._view(record) for key, record in self._records.items()}

    def _view(self, record: dict[str, Any]) -> dict[str, Any]:
        return scored_view(
            record.get(self.text_column), record.get("_time"), record["label"], record.get("score"), record
        )

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Each scored row as its record, the text as scored (de-identified), plus the scores."""
        records = [plain(r["_row"]) | {self.text_column: r["_text"]} | _scores(r) for r in rows]
        lines = [json.dumps(r, ensure_ascii=False, default=str) for r in records]
        atomic.write_text(self.path, "".join(f"{line}\n" for line in [*self._lines, *lines]))
        self._lines += lines
        self._records.update({str(r["_key"]): r for r in records})


def _iso(time: Any) -> str | None:
    return time.isoformat() if time is not None else None


def _scores(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "_key": row["_key"],
        "_time": _iso(row["_time"]),
        "label": row["label"],
        "score": row["score"],
        "scored_at": row["scored_at"],
    }


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

    def count(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(self.table)).scalar_one())

    def lookup(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Key -> `scored_view` of those of `keys` scored (no fields: they stay in the source)."""
        from sqlalchemy import select

        found: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(keys), 500):
                query = select(self.table).where(self.table.c.key.in_(keys[start : start + 500]))
                for r in connection.execute(query).mappings():
                    found[str(r["key"])] = scored_view(r["text"], r["time"], r["label"], r["score"], {})
        return found

    def add_page(self, rows: list[dict[str, Any]], scan: TableScan, mark: Mark) -> int:
        """One page's scores and the watermark after it, in one transaction: a run killed
        between pages resumes after the last one committed. Keys already stored are left alone
        (a re-run, or ids that do not grow), so no row is stored twice. Returns the rows added."""
        with self.engine.begin() as connection:
            keys = [r["_key"] for r in rows]
            stored = (
                set(
                    connection.execute(
                        self.table.select()
                        .with_only_columns(self.table.c.key)
                        .where(self.table.c.key.in_(keys))
                    ).scalars()
                )
                if keys
                else set()
            )
            values = [
                {
                    "key": r["_key"],
                    "label": r["label"],
                    "score": r["score"],
                    "text": r["_text"],
                    "time": _iso(r["_time"]),
                    "run": r["_run"],
                    "scored_at": r["scored_at"],
                }
                for r in rows
                if r["_key"] not in stored
            ]
            if values:
                connection.execute(self.table.insert(), values)
            scan.write_mark(connection, self.name, mark)
        return len(values)
