"""The row shape of each record kind, shared by every sink so the same stream reads the same
in SQLite, CSV, Parquet and Feather.

- ``ohlcv``: ``symbol, timeframe, timestamp_ms, open, high, low, close, volume``; key
  (symbol, timeframe, timestamp_ms), the bar's open time.
- ``trades``: ``symbol, timestamp_ms, price, amount, side, id``; key (symbol, timestamp_ms, id).
- ``ticker`` / ``orderbook``: ``symbol, kind, timestamp_ms`` then one float column per key of
  `Snapshot.data` in first-seen order (``bid``, ``ask``, ... or ``bid_px_0``, ``bid_sz_0``,
  ...); key (symbol, kind, timestamp_ms). A value a snapshot lacks is null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from barlake.errors import ConfigError, DataError
from barlake.files.exporter import check_table_name
from barlake.stream.model import KINDS, Bar, Snapshot, StreamConfig, Trade

SNAPSHOT_KINDS = ("ticker", "orderbook")
_ARROW = {"text": pa.string(), "int": pa.int64(), "real": pa.float64()}

Record = Bar | Trade | Snapshot


@dataclass(frozen=True)
class Shape:
    """Fixed columns (with a type each: text, int or real) and the key of one record kind."""

    kind: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    key: tuple[str, ...]

    def arrow_type(self, column: str) -> pa.DataType:
        if column in self.columns:
            return _ARROW[self.types[self.columns.index(column)]]
        return pa.float64()  # snapshot data columns


BARS = Shape(
    "ohlcv",
    Bar._fields,
    ("text", "text", "int", "real", "real", "real", "real", "real"),
    ("symbol", "timeframe", "timestamp_ms"),
)
TRADES = Shape(
    "trades",
    Trade._fields,
    ("text", "int", "real", "real", "text", "text"),
    ("symbol", "timestamp_ms", "id"),
)
SNAPSHOTS = Shape(
    "snapshot",
    ("symbol", "kind", "timestamp_ms"),
    ("text", "text", "int"),
    ("symbol", "kind", "timestamp_ms"),
)


def shape_of(kind: str) -> Shape:
    if kind == "ohlcv":
        return BARS
    if kind == "trades":
        return TRADES
    if kind in SNAPSHOT_KINDS:
        return SNAPSHOTS
    raise DataError(f"unknown record kind {kind!r}; use one of {', '.join(KINDS)}")


def primary_kind(config: StreamConfig) -> str:
    """What the stream writes: bars when trades are turned into bars, else its kind."""
    kind = "ohlcv" if config.trades_to_ohlcv else config.kind
    if kind not in KINDS:
        raise ConfigError(f"unknown stream kind {config.kind!r}; use one of {', '.join(KINDS)}")
    return kind


def table_names(config: StreamConfig) -> dict[str, str]:
    """Record kind → table (or file) name: the kind itself, `--table` for the stream's own kind."""
    names = {kind: kind for kind in KINDS}
    if config.table:
        names[primary_kind(config)] = check_table_name(config.table)
    return names


def data_columns(snapshots: Sequence[Record], known: Sequence[str] = ()) -> list[str]:
    """`known` then every new data key in first-seen order (fixed column names never repeat)."""
    seen = dict.fromkeys(known)
    for snap in snapshots:
        for name in snap.data if isinstance(snap, Snapshot) else ():
            if name not in seen and name not in SNAPSHOTS.columns:
                seen[name] = None
    return list(seen)


def rows_of(kind: str, records: Sequence[Record], extra: Sequence[str] = ()) -> list[tuple]:
    """Records → tuples in column order (`extra` are the snapshot data columns)."""
    if kind in SNAPSHOT_KINDS:
        return [
            (s.symbol, s.kind, s.timestamp_ms, *(_float(s.data.get(c)) for c in extra))
            for s in records
            if isinstance(s, Snapshot)
        ]
    return [tuple(r) for r in records]


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def key_of(record: Record) -> tuple:
    if isinstance(record, Bar):
        return record.symbol, record.timeframe, record.timestamp_ms
    if isinstance(record, Trade):
        return record.symbol, record.timestamp_ms, record.id
    return record.symbol, record.kind, record.timestamp_ms


def last_per_key(records: Sequence[Record]) -> list[Record]:
    """One record per key, the last handed over, in first-seen order of the keys."""
    kept: dict[tuple, Record] = {}
    for record in records:
        kept[key_of(record)] = record
    return list(kept.values())


def to_arrow(kind: str, records: Sequence[Record], extra: Sequence[str] = ()) -> pa.Table:
    """Records → an Arrow table with the kind's columns and types."""
    shape = shape_of(kind)
    names = [*shape.columns, *extra]
    rows = rows_of(kind, records, extra)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [
        pa.array(list(values), type=shape.arrow_type(name))
        for name, values in zip(names, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, names=names)


def dedup_last(table: pa.Table, key: Sequence[str]) -> pa.Table:
    """Keep the last row of each key (rows later in the table win), sorted by the key."""
    if table.num_rows == 0:
        return table
    order = pa.array(np.arange(table.num_rows, dtype=np.int64))
    last = (
        table.select(list(key))
        .append_column("_row", order)
        .group_by(list(key), use_threads=False)
        .aggregate([("_row", "max")])
    )
    kept = table.take(last.column("_row_max"))
    return kept.sort_by([(name, "ascending") for name in key])


def key_for_columns(names: Sequence[str]) -> tuple[str, ...]:
    """The key of a stored table, told by its columns (bars have a timeframe, trades an id)."""
    if "timeframe" in names:
        return BARS.key
    if "id" in names and "price" in names:
        return TRADES.key
    return SNAPSHOTS.key
