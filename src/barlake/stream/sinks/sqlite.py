"""SQLite sink: one table per record kind, a UNIQUE index on the kind's key, upserts.

Each flush is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) of ``INSERT … ON CONFLICT DO
UPDATE``, so a bar written twice (a backfill overlapping a replay) is one row holding the last
values. The file runs in WAL mode with ``synchronous=FULL``: a commit is on disk when `flush`
returns, and readers (a notebook, the app) never block the writer.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from barlake.errors import ConfigError
from barlake.files.exporter import SQLITE_DISK_ERRORS
from barlake.stream.sinks.buffer import BufferedSink
from barlake.stream.sinks.rows import SNAPSHOT_KINDS, Record, data_columns, rows_of, shape_of

log = logging.getLogger(__name__)

_SQL_TYPES = {"text": "TEXT", "int": "INTEGER", "real": "REAL"}
BUSY_TIMEOUT_S = 5.0


class SqliteSink(BufferedSink):
    """Upserts into `path`; `tables` maps a record kind to its table name."""

    def __init__(
        self, path: Path, tables: dict[str, str], *, flush_every: int = 1, primary: str = "ohlcv"
    ) -> None:
        super().__init__(flush_every)
        self.path = Path(path)
        self.tables = tables
        self._columns: dict[str, list[str]] = {}  # table → columns it has
        self._sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self._db = _connect(self.path)
        try:
            self._in_transaction(lambda: self._prepare(primary, []))
        except BaseException:
            self._db.close()
            raise

    def _in_transaction(self, work: Callable[[], object]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            work()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _write(self, batches: dict[str, list[Record]]) -> None:
        def work() -> None:
            for kind, records in batches.items():
                self._upsert(kind, records)

        try:
            self._in_transaction(work)
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode & 0xFF in SQLITE_DISK_ERRORS:
                raise OSError(f"{self.path}: {exc}") from exc
            raise

    def _upsert(self, kind: str, records: list[Record]) -> None:
        extra = data_columns(records) if kind in SNAPSHOT_KINDS else []
        table = self._prepare(kind, extra)
        columns = (*shape_of(kind).columns, *extra)
        sql = self._sql.get((table, columns))
        if sql is None:
            sql = self._sql[(table, columns)] = _upsert_sql(table, columns, shape_of(kind).key)
        self._db.executemany(sql, rows_of(kind, records, extra))

    def _prepare(self, kind: str, extra: list[str]) -> str:
        """Create the kind's table and key index, or check an existing one; add data columns."""
        table = self.tables[kind]
        have = self._columns.get(table)
        if have is None:
            have = self._columns[table] = _check_or_create(self._db, self.path, kind, table)
        for name in extra:
            if name not in have:
                self._db.execute(f"ALTER TABLE {_quote(table)} ADD COLUMN {_quote(name)} REAL")
                have.append(name)
        return table

    def _release(self) -> None:
        self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    """Open (creating) the file in WAL mode; a bad target is a one-line ConfigError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open {path} as SQLite ({exc}); pick a writable --out") from None
    try:
        db.execute("PRAGMA journal_mode=WAL").fetchone()
        db.execute("PRAGMA synchronous=FULL")
    except sqlite3.DatabaseError as exc:
        db.close()
        if exc.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
            raise ConfigError(f"{path} is not a SQLite database; pick another --out file") from None
        raise ConfigError(f"cannot use {path} as SQLite ({exc}); pick a writable --out") from None
    return db


def _check_or_create(db: sqlite3.Connection, path: Path, kind: str, table: str) -> list[str]:
    shape = shape_of(kind)
    info = db.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
    if not info:
        body = ", ".join(
            f"{_quote(name)} {_SQL_TYPES[kind_]} NOT NULL"
            for name, kind_ in zip(shape.columns, shape.types, strict=True)
        )
        db.execute(f"CREATE TABLE {_quote(table)} ({body})")
    else:
        have = {row[1]: row for row in info}
        missing = [name for name in shape.columns if name not in have]
        # a column we do not fill that may not be null would make every insert fail
        required = [
            name
            for name, row in have.items()
            if name not in shape.columns and row[3] and row[4] is None and not row[5]
        ]
        if missing or required:
            raise ConfigError(
                f"table {table!r} in {path} has columns ({', '.join(have)}), not the {kind} "
                f"stream's ({', '.join(shape.columns)}); pick another --table or --out"
            )
    index = _quote(f"{table}_key")
    try:
        db.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {_quote(table)}"
            f"({', '.join(_quote(c) for c in shape.key)})"
        )
    except sqlite3.IntegrityError:
        raise ConfigError(
            f"table {table!r} in {path} holds repeated ({', '.join(shape.key)}) rows, so it "
            "cannot take upserts; pick another --table or --out"
        ) from None
    return [row[1] for row in db.execute(f"PRAGMA table_info({_quote(table)})")]


def _upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    names = ", ".join(_quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in columns if c not in key)
    target = ", ".join(_quote(c) for c in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks}) ON CONFLICT({target}) {action}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
