"""Bars from the lake in the shapes other backtesters expect.

All three drop the time zone (the values stay UTC): backtesting.py and Backtrader want naive
datetimes, and vectorbt turns a tz-aware index into an array of Timestamp objects on every
wrap (about 1.7 s per call on 1M bars), so a naive index is its fast path too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from barlake.errors import ConfigError

_OHLCV = ("open", "high", "low", "close", "volume")


def _naive_ohlcv(df: pd.DataFrame, capitalise: bool) -> pd.DataFrame:
    lower = {str(c).lower(): c for c in df.columns}
    missing = [c for c in _OHLCV[:4] if c not in lower]
    if missing:
        raise ConfigError(f"bars need open/high/low/close columns; missing {missing}")
    names = [c for c in _OHLCV if c in lower]
    data = {
        (n.capitalize() if capitalise else n): df[lower[n]].to_numpy(dtype=np.float64)
        for n in names
    }
    index = df.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return pd.DataFrame(data, index=index.rename("time" if capitalise else "datetime"))


def to_backtesting_py(df: pd.DataFrame) -> pd.DataFrame:
    """`Open High Low Close Volume` float64 on a naive UTC DatetimeIndex, for
    `backtesting.Backtest(data, ...)`."""
    return _naive_ohlcv(df, capitalise=True)


def to_vectorbt(df: pd.DataFrame) -> pd.DataFrame:
    """`Open High Low Close Volume` on a naive UTC index: `df.vbt.ohlcv` works on it, and
    `vbt.Portfolio.from_signals(df["Close"], ..., open=df["Open"], ...)` stays on its fast path."""
    return _naive_ohlcv(df, capitalise=True)


def to_backtrader(df: pd.DataFrame, **feed_options: Any) -> Any:
    """A ready `bt.feeds.PandasData` feed (lower-case columns, naive UTC `datetime` index, no
    open interest); `feed_options` go to PandasData (e.g. `name=`, `timeframe=`)."""
    try:
        import backtrader as bt
    except ImportError as exc:
        raise ConfigError("to_backtrader needs backtrader: pip install backtrader") from exc
    frame = _naive_ohlcv(df, capitalise=False)
    if "volume" not in frame.columns:
        frame["volume"] = 0.0
    return bt.feeds.PandasData(dataname=frame, openinterest=None, **feed_options)
