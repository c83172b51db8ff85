"""The bar schema every lake file follows, and the checks a batch passes before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from barlake.errors import DataError
from barlake.timeframes import bucket_anchor

TIMESTAMP = "timestamp_ms"
PRICE_COLUMNS = ("open", "high", "low", "close")
CORE_COLUMNS = (TIMESTAMP, *PRICE_COLUMNS, "volume")
# Extra columns we know the type of; any other extra must already be numeric.
KNOWN_EXTRAS: dict[str, pa.DataType] = {"trades": pa.int64(), "quote_volume": pa.float64()}
# Extras that add up when bars are merged into a longer bar (the rest take the last value).
ADDITIVE = frozenset(
    {"volume", "trades", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume"}
)

CORE_SCHEMA = pa.schema(
    [pa.field(TIMESTAMP, pa.int64(), nullable=False)]
    + [pa.field(name, pa.float64(), nullable=False) for name in (*PRICE_COLUMNS, "volume")]
)

REJECT_REASONS = (
    "non_finite",
    "high_below_open_close",
    "low_above_open_close",
    "negative_volume",
    "misaligned",
)


@dataclass
class Checked:
    """A batch after validation: the clean table plus how many rows were refused and why."""

    table: pa.Table
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    rejected_ts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def conform(table: pa.Table) -> pa.Table:
    """Cast to the lake schema: core columns first in order, then extras; refuse what is missing."""
    missing = [name for name in CORE_COLUMNS if name not in table.column_names]
    if missing:
        raise DataError(f"bars lack column(s) {', '.join(missing)}; need {', '.join(CORE_COLUMNS)}")
    columns, fields = [], []
    for name in CORE_COLUMNS:
        target = CORE_SCHEMA.field(name).type
        columns.append(_cast(table.column(name), target, name))
        fields.append(pa.field(name, target))
    for name in table.column_names:
        if name in CORE_COLUMNS:
            continue
        column = table.column(name)
        target = KNOWN_EXTRAS.get(name)
        if target is None:
            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
                raise DataError(f"extra column {name!r} is {column.type}; extras must be numeric")
            target = pa.int64() if pa.types.is_integer(column.type) else pa.float64()
        columns.append(_cast(column, target, name))
        fields.append(pa.field(name, target))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _cast(column: pa.ChunkedArray, target: pa.DataType, name: str) -> pa.ChunkedArray:
    if column.type == target:
        return column
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(f"column {name!r} cannot be read as {target}: {exc}") from exc


def bad_row_masks(table: pa.Table, tf_ms: int, offset_ms: int = 0) -> dict[str, np.ndarray]:
    """One boolean mask per reject reason; a row may fail several, it is counted under the first."""
    ts = table.column(TIMESTAMP).to_numpy()
    o, h, lo, c, v = (
        table.column(name).to_numpy(zero_copy_only=False) for name in (*PRICE_COLUMNS, "volume")
    )
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)
        masks = {
            "non_finite": ~finite,
            "high_below_open_close": finite & (h < np.maximum(o, c)),
            "low_above_open_close": finite & (lo > np.minimum(o, c)),
            "negative_volume": finite & (v < 0),
            "misaligned": (ts - bucket_anchor(tf_ms, offset_ms)) % tf_ms != 0,
        }
    return masks


def check(table: pa.Table, tf_ms: int, offset_ms: int = 0) -> Checked:
    """Validate, drop bad rows (counted), dedup on timestamp (last wins), sort.

    Bad rows never raise: they are counted per reason so the caller can report them.
    """
    table = conform(table)
    rejected: dict[str, int] = {}
    rejected_ts = np.empty(0, dtype=np.int64)
    if table.num_rows:
        bad = np.zeros(table.num_rows, dtype=bool)
        for reason, mask in bad_row_masks(table, tf_ms, offset_ms).items():
            counted = mask & ~bad
            if counted.any():
                rejected[reason] = int(counted.sum())
            bad |= mask
        if bad.any():
            rejected_ts = table.column(TIMESTAMP).to_numpy()[bad]
            table = table.filter(pa.array(~bad))
    before = table.num_rows
    table = dedup_last(table)
    return Checked(table, rejected, before - table.num_rows, rejected_ts)


def dedup_last(table: pa.Table) -> pa.Table:
    """Sort by timestamp keeping, for equal timestamps, the row that came last in the input."""
    if table.num_rows == 0:
        return table
    ts = table.column(TIMESTAMP).to_numpy()
    if ts.size < 2 or bool(np.all(ts[1:] > ts[:-1])):
        return table
    order = np.argsort(ts, kind="stable")
    sorted_ts = ts[order]
    keep = np.ones(order.size, dtype=bool)
    keep[:-1] = sorted_ts[1:] != sorted_ts[:-1]  # last of each run of equal stamps wins
    return table.take(pa.array(order[keep]))


def empty_table(extras: pa.Schema | None = None) -> pa.Table:
    schema = CORE_SCHEMA if extras is None else extras
    return schema.empty_table()


def is_sorted_unique(table: pa.Table) -> bool:
    ts = table.column(TIMESTAMP)
    if len(ts) < 2:
        return True
    diffs = pc.subtract(ts.slice(1), ts.slice(0, len(ts) - 1))
    return bool(pc.all(pc.greater(diffs, 0)).as_py())
