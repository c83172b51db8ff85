"""API frames → files other tools open: CSV, Parquet, Feather, SQLite, Backtrader-ready Parquet.

Every format is written next to its target under a temporary name, fsynced, then moved over it
with os.replace: a reader sees the old file or the new one, never half of either, and a failed
export leaves the old file as it was.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq

from barlake.adapters import backtrader_frame
from barlake.bars.frame import frame_to_table, table_to_frame
from barlake.bars.schema import TIMESTAMP
from barlake.errors import ConfigError, DataError
from barlake.lake.atomic import atomic_path

_CSV_BATCH_ROWS = 65_536  # CSV goes out in batches, so a big export never sits in memory as text
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SQLITE_DISK_ERRORS = frozenset({sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN})


def export_frame(frame: pd.DataFrame, fmt: str, out: Path, *, table: str = "ohlcv") -> Path:
    """Write an API frame (UTC DatetimeIndex `time`, numeric columns) as `fmt` to `out`.

    `table` names the SQLite table; other formats ignore it. SQLite extends an existing file
    (upsert on timestamp_ms), every other format replaces it.
    """
    writer = _WRITERS.get(fmt.strip().lower())
    if writer is None:
        raise ConfigError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    check_table_name(table)
    lake = frame_to_table(frame)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer(lake, out, table)
    return out


def check_table_name(table: str) -> str:
    """`table` if it is a plain SQL name (the export's and the stream sink's), else ConfigError."""
    if not _TABLE_NAME.fullmatch(table):
        raise ConfigError(f"bad table name {table!r}: use letters, digits and _ (e.g. ohlcv)")
    return table


def _iso_times(ts_ms: np.ndarray) -> np.ndarray:
    """Epoch ms → '2024-01-02T13:05:00Z'; milliseconds are shown only when some bar has them."""
    stamps = np.asarray(ts_ms, dtype=np.int64)
    unit = "s" if bool(np.all(stamps % 1000 == 0)) else "ms"
    text = np.datetime_as_string(stamps.astype("datetime64[ms]").astype(f"datetime64[{unit}]"))
    return np.char.add(text.astype(str), "Z")


def _write_csv(lake: pa.Table, out: Path, _table: str) -> None:
    body = lake.drop_columns([TIMESTAMP])
    times = pa.array(_iso_times(lake.column(TIMESTAMP).to_numpy()), pa.string())
    body = body.add_column(0, "time", times)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with atomic_path(out) as tmp, tmp.open("wb") as fh:
        fh.write((",".join(body.column_names) + "\n").encode())
        with pacsv.CSVWriter(fh, body.schema, write_options=options) as writer:
            for batch in body.to_batches(max_chunksize=_CSV_BATCH_ROWS):
                writer.write_batch(batch)


def _write_parquet(lake: pa.Table, out: Path, _table: str) -> None:
    with atomic_path(out) as tmp:
        pq.write_table(lake, tmp, compression="zstd")


def _write_feather(lake: pa.Table, out: Path, _table: str) -> None:
    with atomic_path(out) as tmp:
        feather.write_feather(lake, tmp, compression="zstd")


def _write_backtrader(lake: pa.Table, out: Path, _table: str) -> None:
    """bt.feeds.PandasData reads the index as the bar time and matches columns by name."""
    frame = backtrader_frame(table_to_frame(lake))
    with atomic_path(out) as tmp:
        frame.to_parquet(tmp, compression="zstd")


def _write_sqlite(lake: pa.Table, out: Path, table: str) -> None:
    """Copy the old database to the temp file, upsert in one transaction, then swap it in."""
    with atomic_path(out) as tmp:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            if out.exists():
                old = sqlite3.connect(f"{out.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    old.backup(db)  # the backup API also carries a WAL the old file may have
                finally:
                    old.close()
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("BEGIN IMMEDIATE")
            _prepare_table(db, table, lake.schema)
            db.executemany(_upsert_sql(table, lake.column_names), _rows(lake))
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode & 0xFF in SQLITE_DISK_ERRORS:
                raise OSError(f"{out}: {exc}") from exc  # the disk, not the file, is the problem
            raise DataError(
                f"{out}: cannot write table {table!r}: {exc}; pick another file or table"
            ) from exc
        finally:
            db.close()
            for suffix in ("-journal", "-wal", "-shm"):  # a failed write leaves a hot journal
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def _prepare_table(db: sqlite3.Connection, table: str, schema: pa.Schema) -> None:
    """Create the table, or widen an existing one with new extra columns and a unique key."""
    columns = {name: _sql_type(schema.field(name).type) for name in schema.names}
    have = {row[1]: row[5] for row in db.execute(f'PRAGMA table_info("{table}")')}
    if not have:
        body = ", ".join(
            ["timestamp_ms INTEGER PRIMARY KEY", "time TEXT NOT NULL"]
            + [f'"{name}" {kind}' for name, kind in columns.items() if name != TIMESTAMP]
        )
        db.execute(f'CREATE TABLE "{table}" ({body})')
        return
    for name, kind in columns.items():
        if name not in have:
            db.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}')
    if have.get(TIMESTAMP) != 1:  # not the primary key: ON CONFLICT needs a unique index
        db.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_timestamp_ms" ON "{table}"(timestamp_ms)'
        )


def _sql_type(kind: pa.DataType) -> str:
    return "INTEGER" if pa.types.is_integer(kind) else "REAL"


def _upsert_sql(table: str, names: list[str]) -> str:
    columns = ["timestamp_ms", "time", *(n for n in names if n != TIMESTAMP)]
    quoted = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f'"{name}" = excluded."{name}"' for name in columns[1:])
    return (
        f'INSERT INTO "{table}" ({quoted}) VALUES ({marks}) '
        f"ON CONFLICT(timestamp_ms) DO UPDATE SET {updates}"
    )


def _rows(lake: pa.Table) -> Iterator[tuple[object, ...]]:
    stamps = lake.column(TIMESTAMP).to_numpy()
    values = [lake.column(n).to_pylist() for n in lake.column_names if n != TIMESTAMP]
    return zip(stamps.tolist(), _iso_times(stamps).tolist(), *values, strict=True)


_WRITERS: dict[str, Callable[[pa.Table, Path, str], None]] = {
    "backtrader": _write_backtrader,
    "csv": _write_csv,
    "feather": _write_feather,
    "parquet": _write_parquet,
    "sqlite": _write_sqlite,
}
FORMATS = tuple(sorted(_WRITERS))
