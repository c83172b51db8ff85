"""Arrow table (lake shape) ↔ pandas frame (API shape: UTC DatetimeIndex named `time`), and a
frame's OHLCV columns as the float64 arrays the kernels read."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from barlake.bars.schema import CORE_COLUMNS, PRICE_COLUMNS, TIMESTAMP, conform
from barlake.errors import ConfigError, DataError

INDEX_NAME = "time"
OHLCV = (*PRICE_COLUMNS, "volume")


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """Lake table → frame indexed by tz-aware UTC open time; columns keep their lake order."""
    ts = table.column(TIMESTAMP).to_numpy()
    index = pd.DatetimeIndex(ts.astype("datetime64[ms]"), name=INDEX_NAME).tz_localize("UTC")
    data = {
        name: table.column(name).to_numpy(zero_copy_only=False)
        for name in table.column_names
        if name != TIMESTAMP
    }
    return pd.DataFrame(data, index=index, copy=False)


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """Frame with a DatetimeIndex (naive = UTC) or a `timestamp_ms` column → lake table."""
    if TIMESTAMP in frame.columns:
        ts = frame[TIMESTAMP].to_numpy(dtype=np.int64)
        body = frame.drop(columns=[TIMESTAMP])
    elif isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        ts = index.as_unit("ms").asi8
        body = frame
    else:
        raise DataError("bars need a DatetimeIndex or a 'timestamp_ms' column for the open time")
    arrays = {TIMESTAMP: pa.array(ts, type=pa.int64())}
    for name in body.columns:
        arrays[str(name)] = pa.array(body[name].to_numpy())
    return conform(pa.table(arrays))


def ordered_columns(names: list[str]) -> list[str]:
    return [*CORE_COLUMNS, *(n for n in names if n not in CORE_COLUMNS)]


def ohlcv_arrays(
    frame: pd.DataFrame, names: Sequence[str] = OHLCV, *, required: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """The `names` columns a frame has, by lower-case name (so backtesting.py's `Close` reads
    too), as contiguous float64 arrays; a missing `required` column is a ConfigError."""
    lower = {str(c).lower(): c for c in frame.columns}
    missing = [c for c in required if c not in lower]
    if missing:
        noun = "columns" if len(required) > 1 else "column"
        raise ConfigError(f"bars need {'/'.join(required)} {noun}; missing {missing}")
    return {
        name: np.ascontiguousarray(frame[lower[name]].to_numpy(dtype=np.float64))
        for name in names
        if name in lower
    }
