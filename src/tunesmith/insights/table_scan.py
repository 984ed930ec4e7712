"""A database table read the way a CRM of any size allows: in key order, a page at a time, after a
watermark pushed into the query (`WHERE id > :last`, or `WHERE (time, id) > (:t, :last)`), so
memory stays flat with the table's size and a second run reads only what is new.

The watermark lives in the source's own database (`tunesmith_insights_marks`), written in the same
transaction as the page's scores: a run killed between two pages resumes after the last page
committed, so no row is scored twice and none is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MARKS_TABLE = "tunesmith_insights_marks"
PAGE = 1000  # rows per query and per transaction


@dataclass(frozen=True)
class Mark:
    """The last row committed: its id, and its time when the scan goes by time."""

    key: Any
    time: Any = None


def _dump(value: Any) -> str:
    """A watermark value with its type, so it binds back as the column's own type."""
    if isinstance(value, dt.datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, dt.date):
        return json.dumps({"date": value.isoformat()})
    return json.dumps({"value": value}, default=str)


def _load(text: str | None) -> Any:
    if text is None:
        return None
    stored = json.loads(text)
    if "datetime" in stored:
        return dt.datetime.fromisoformat(stored["datetime"])
    if "date" in stored:
        return dt.date.fromisoformat(stored["date"])
    return stored["value"]


class TableScan:
    """Pages of `table` ordered by (time,) id, after a `Mark`; and the marks kept per scores table."""

    def __init__(self, engine: Any, table: Any, id_column: str, time_column: str | None) -> None:
        from sqlalchemy import Column, MetaData, String, Table, Text

        self.engine = engine
        self.table = table
        self.id = table.c[id_column]
        self.time = table.c[time_column] if time_column else None
        meta = MetaData()
        self.marks = Table(
            MARKS_TABLE,
            meta,
            Column("scores", String(200), primary_key=True),
            Column("key", Text),
            Column("time", Text),
            Column("updated_at", String(40)),
        )
        meta.create_all(engine)

    def _after(self, mark: Mark | None) -> Any:
        from sqlalchemy import and_, or_, true

        if mark is None:
            return true()
        if self.time is None:
            return self.id > mark.key
        return or_(self.time > mark.time, and_(self.time == mark.time, self.id > mark.key))

    def _order(self) -> list[Any]:
        return [self.id] if self.time is None else [self.time, self.id]

    def count(self, mark: Mark | None = None) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as connection:
            query = select(func.count()).select_from(self.table).where(self._after(mark))
            return int(connection.execute(query).scalar_one())

    def pages(self, mark: Mark | None, size: int = PAGE) -> Iterator[list[dict[str, Any]]]:
        """Every row after `mark` in key order, `size` at a time: one short query per page (no
        cursor held open across pages, so a long scoring run never holds a read transaction)."""
        from sqlalchemy import select

        while True:
            query = select(self.table).where(self._after(mark)).order_by(*self._order()).limit(size)
            with self.engine.connect() as connection:
                page = [dict(row) for row in connection.execute(query).mappings()]
            if not page:
                return
            yield page
            mark = self.mark_of(page[-1])

    def mark_of(self, row: dict[str, Any]) -> Mark:
        return Mark(row[self.id.name], row[self.time.name] if self.time is not None else None)

    def read_mark(self, scores: str) -> Mark | None:
        from sqlalchemy import select

        with self.engine.connect() as connection:
            row = (
                connection.execute(select(self.marks).where(self.marks.c.scores == scores)).mappings().first()
            )
        return Mark(_load(row["key"]), _load(row["time"])) if row else None

    def write_mark(self, connection: Any, scores: str, mark: Mark) -> None:
        """Inside the caller's transaction: the page's scores and its mark commit together."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        connection.execute(self.marks.delete().where(self.marks.c.scores == scores))
        values = {"scores": scores, "key": _dump(mark.key), "time": _dump(mark.time), "updated_at": now}
        connection.execute(self.marks.insert(), [values])
