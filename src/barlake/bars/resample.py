"""Resample bars into longer bars: numba kernels over numpy arrays, a thin table/frame layer.

Bucket rule (the whole contract): a bar opening at ``ts`` belongs to the bucket opening at
``ts - ((ts - anchor) % tf_ms)``, where ``anchor`` is ``timeframes.bucket_anchor`` (the epoch,
Monday 1970-01-05 for weekly sizes, shifted by the offset). Buckets are labelled by their open
time and closed on the left; empty buckets are not emitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

from barlake.bars.frame import frame_to_table, table_to_frame
from barlake.bars.schema import ADDITIVE, PRICE_COLUMNS, TIMESTAMP, conform
from barlake.errors import ConfigError, DataError
from barlake.timeframes import bucket_anchor, parse_offset, parse_timeframe

# Rows of the kernel's value block, in lake order.
_OHLCV = (*PRICE_COLUMNS, "volume")


@njit(cache=True)
def resample_ohlcv_nb(ts, tf_ms, anchor, open_, high, low, close, volume, capacity):
    """One pass over sorted bars → per non-empty bucket: open time, first row, and OHLCV.

    pandas: ``resample(rule, label='left', closed='left', origin=anchor).agg(first, max, min,
    last, sum).dropna()``. The modulo runs once per bucket, not per bar, which is what makes
    this cheaper than flooring every timestamp with numpy. ``capacity`` bounds the bucket
    count of sorted input. Returns ``bad = i`` (and empty arrays) when ``ts[i] <= ts[i - 1]``,
    -2 when unsorted input would overflow ``capacity`` before that row is reached, else -1.
    """
    out_ts = np.empty(capacity, np.int64)
    starts = np.empty(capacity, np.int64)
    values = np.empty((5, capacity), np.float64)
    n, i, k = ts.size, 0, 0
    while i < n:
        if k == capacity:
            return out_ts[:0], starts[:0], values[:, :0], -2
        bucket = ts[i] - (ts[i] - anchor) % tf_ms
        end = bucket + tf_ms
        hi, lo, vol = high[i], low[i], volume[i]
        j = i + 1
        while j < n and ts[j] < end:  # accumulate in registers, not through `values`
            if ts[j] <= ts[j - 1]:
                return out_ts[:0], starts[:0], values[:, :0], j
            hi = max(hi, high[j])
            lo = min(lo, low[j])
            vol += volume[j]
            j += 1
        out_ts[k], starts[k] = bucket, i
        values[0, k], values[1, k], values[2, k] = open_[i], hi, lo
        values[3, k], values[4, k] = close[j - 1], vol
        i, k = j, k + 1
    return out_ts[:k], starts[:k], values[:, :k], -1


@njit(cache=True)
def segment_sum_1d_nb(values, starts):
    """Sum of each run ``values[starts[j]:starts[j + 1]]``; keeps the dtype (int stays int).

    pandas: ``groupby(bucket).sum()`` over one column already split into runs.
    """
    k = starts.size
    out = np.zeros(k, values.dtype)
    for j in range(k):
        stop = starts[j + 1] if j + 1 < k else values.size
        acc = out[j]
        for i in range(starts[j], stop):
            acc += values[i]
        out[j] = acc
    return out


def resample_table(table: pa.Table, tf_ms: int, offset_ms: int = 0) -> tuple[pa.Table, np.ndarray]:
    """Lake table → lake table of ``tf_ms`` bars (same columns, same order) plus bars per bucket.

    The input must be sorted with unique timestamps, as every lake table is; an out-of-order
    row is refused rather than silently producing overlapping buckets.
    """
    tf_ms, offset_ms = int(tf_ms), int(offset_ms)
    if tf_ms <= 0:
        raise ConfigError(f"bad timeframe of {tf_ms} ms: must be positive")
    table = conform(table)
    ts = _numpy(table.column(TIMESTAMP))
    columns = {name: _numpy(table.column(name)) for name in table.column_names if name != TIMESTAMP}
    out_ts, out_columns, counts = _resample_arrays(ts, columns, tf_ms, offset_ms)
    arrays = [pa.array(out_ts, type=pa.int64())]
    arrays += [pa.array(out_columns[name]) for name in columns]
    return pa.Table.from_arrays(arrays, schema=table.schema), counts


def resample(frame: pd.DataFrame, timeframe: str, offset: str | None = None) -> pd.DataFrame:
    """Bars indexed by open time → bars of ``timeframe`` (e.g. '1h'), one row per non-empty bucket.

    ``offset`` shifts the bucket grid ('17h' gives FX days opening 17:00 UTC). Extras in
    ``schema.ADDITIVE`` are summed, other extras take the bucket's last value. The result is
    what pandas ``resample(label='left', closed='left', origin='epoch')`` followed by ``dropna``
    gives, with weeks opening Monday 00:00 UTC.
    """
    tf_ms, offset_ms = parse_timeframe(timeframe), parse_offset(offset)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"resample takes a pandas DataFrame, not {type(frame).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError("resample needs a DatetimeIndex of bar open times (UTC, or naive = UTC)")
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind == "f" and column.isna().any():
            raise DataError(
                f"column {name!r} has {int(column.isna().sum())} NaN value(s); "
                "drop or fill them before resampling"
            )
    out, _ = resample_table(frame_to_table(frame), tf_ms, offset_ms)
    result = table_to_frame(out)
    return result[[str(name) for name in frame.columns if str(name) in result.columns]]


def _resample_arrays(
    ts: np.ndarray, columns: dict[str, np.ndarray], tf_ms: int, offset_ms: int
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Run the OHLCV kernel once, then one cheap pass per extra over the found buckets."""
    anchor = bucket_anchor(tf_ms, offset_ms) % tf_ms
    capacity = 0  # buckets the span can hold, but never more than there are bars
    if ts.size:
        first_bucket = int(ts[0]) - (int(ts[0]) - anchor) % tf_ms
        capacity = max(0, min(ts.size, (int(ts[-1]) - first_bucket) // tf_ms + 1))
    o, h, lo, c, v = (columns[name] for name in _OHLCV)
    out_ts, starts, values, bad = resample_ohlcv_nb(ts, tf_ms, anchor, o, h, lo, c, v, capacity)
    if bad != -1:
        _raise_unsorted(ts, bad)
    counts = np.diff(starts, append=np.int64(ts.size))
    out = dict(zip(_OHLCV, values, strict=True))
    for name, column in columns.items():
        if name in out:
            continue
        if name in ADDITIVE:
            out[name] = segment_sum_1d_nb(column, starts)
        else:
            out[name] = column[starts + counts - 1]
    return out_ts, out, counts


def _raise_unsorted(ts: np.ndarray, bad: int) -> None:
    if bad < 0:  # the kernel ran out of room first; find the offending row the slow way
        bad = int(np.flatnonzero(ts[1:] <= ts[:-1])[0]) + 1
    when, before = (pd.Timestamp(int(t), unit="ms", tz="UTC") for t in (ts[bad], ts[bad - 1]))
    raise DataError(
        f"bars must be sorted by time without duplicates: row {bad} ({when}) does not come "
        f"after {before}; sort and deduplicate first"
    )


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    """Arrow column → numpy without a copy when it is one chunk (the usual lake case)."""
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy(zero_copy_only=False)
    return column.to_numpy()


__all__ = ["resample", "resample_ohlcv_nb", "resample_table", "segment_sum_1d_nb"]
