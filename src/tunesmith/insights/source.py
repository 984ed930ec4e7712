"""Where the customer records come from: a data file (any format prepare reads) or a SQL table
(SQLAlchemy: a database URL, or a path to an SQLite file). Each record comes with a key - its id
column, or a hash of the whole record - that the incremental store remembers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.data.read import Unreadable, read_records
from tunesmith.errors import DataError, TunesmithError

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
TIME_NAMES = ("date", "time", "timestamp", "datetime", "created_at", "created", "created_time", "day")


@dataclass
class Records:
    where: str  # the file, or the URL (password hidden) and table, for messages
    rows: list[dict[str, Any]]
    lines: list[int]  # the line of each row in a file (0 for a table)
    columns: list[str]
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    engine: Any = None  # the SQLAlchemy engine of a table source
    table: str | None = None
    reflected: Any = None  # the table's SQLAlchemy Table; its rows are read a page at a time


def is_database(source: str) -> bool:
    return "://" in source or source.lower().endswith(SQLITE_SUFFIXES)


def database_url(source: str) -> str:
    return source if "://" in source else f"sqlite:///{Path(source).resolve()}"


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def read_source(source: str, table: str | None) -> Records:
    """A file's records, read whole; a table's columns only (its rows come a page at a time)."""
    if is_database(source):
        if not table:
            raise TunesmithError(f"{source}: a database source needs --table TABLE")
        return _read_table(database_url(source), table)
    if table:
        raise TunesmithError(f"--table {table}: only for a database source, and {source} is a file")
    return _read_file(Path(source))


def _read_file(path: Path) -> Records:
    rows, lines, unreadable = [], [], []
    for line, record in read_records(path):
        if isinstance(record, Unreadable):
            unreadable.append((line, record.reason))
        elif not isinstance(record, dict):
            unreadable.append((line, "not a record with named fields"))
        else:
            rows.append(record)
            lines.append(line)
    if not rows:
        raise DataError(f"{path}: no readable records")
    columns = list(dict.fromkeys(k for row in rows[:1000] for k in row))
    return Records(str(path), rows, lines, columns, unreadable)


def _read_table(url: str, table: str) -> Records:
    from sqlalchemy import MetaData, Table, create_engine, select
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, OperationalError

    shown = shown_url(url)
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            reflected = Table(table, MetaData(), autoload_with=connection)
            has_rows = connection.execute(select(reflected).limit(1)).first() is not None
    except (ArgumentError, NoSuchModuleError) as error:
        raise TunesmithError(f"{shown}: not a database URL SQLAlchemy can open ({error})") from None
    except ImportError as error:
        raise TunesmithError(
            f"{shown}: the database driver is not installed ({error.name}); install it with pip"
        ) from None
    except NoSuchTableError:
        from sqlalchemy import inspect

        names = inspect(engine).get_table_names()
        raise TunesmithError(f"{shown}: no table {table!r} (tables: {', '.join(names) or 'none'})") from None
    except OperationalError as error:
        raise TunesmithError(
            f"{shown}: cannot reach the database ({error.orig}); check the URL, that the server "
            "runs, and the credentials"
        ) from None
    if not has_rows:
        raise DataError(f"{shown} table {table}: no rows")
    columns = list(reflected.columns.keys())
    return Records(f"{shown} table {table}", [], [], columns, engine=engine, table=table, reflected=reflected)


def row_key(row: dict[str, Any], id_column: str | None) -> str:
    """The id column's value, or a hash of the whole record (the same record, the same key)."""
    if id_column:
        return str(row[id_column])
    body = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:20]


def pick_column(records: Records, asked: str | None, role: str, defaults: tuple[str, ...]) -> str | None:
    """`asked` (which must exist), else the first default name present, else None."""
    if asked:
        if asked not in records.columns:
            raise DataError(
                f"{records.where}: no column {asked!r} for the {role} (columns: {', '.join(records.columns)})"
            )
        return asked
    lower = {c.lower(): c for c in records.columns}
    return next((lower[d] for d in defaults if d in lower), None)
