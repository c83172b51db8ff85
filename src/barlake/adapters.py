"""`barlake.adapters`: our bars in the shapes other backtesters expect (Backtrader's PandasData
feed, vectorbt's frame, backtesting.py's capitalised columns on a naive index).

All three drop the time zone (the values stay UTC): backtesting.py and Backtrader want naive
datetimes, and vectorbt turns a tz-aware index into an array of Timestamp objects on every
wrap (about 1.7 s per call on 1M bars), so a naive index is its fast path too. pandas and numpy
only: importing this module does not load the backtest engine.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from barlake.bars.frame import ohlcv_arrays
from barlake.bars.schema import PRICE_COLUMNS
from barlake.errors import ConfigError

__all__ = ["backtrader_frame", "to_backtesting_py", "to_backtrader", "to_vectorbt"]


def _naive_ohlcv(df: pd.DataFrame, capitalise: bool) -> pd.DataFrame:
    arrays = ohlcv_arrays(df, required=PRICE_COLUMNS)
    data = {(n.capitalize() if capitalise else n): values for n, values in arrays.items()}
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


def backtrader_frame(df: pd.DataFrame) -> pd.DataFrame:
    """What `bt.feeds.PandasData` reads: lower-case `open high low close volume` float64 (volume
    0.0 when the bars have none) on a naive UTC index named `datetime`."""
    frame = _naive_ohlcv(df, capitalise=False)
    if "volume" not in frame.columns:
        frame["volume"] = 0.0
    return frame


def to_backtrader(df: pd.DataFrame, **feed_options: Any) -> Any:
    """A ready `bt.feeds.PandasData` feed (`backtrader_frame`, no open interest);
    `feed_options` go to PandasData (e.g. `name=`, `timeframe=`)."""
    try:
        import backtrader as bt
    except ImportError as exc:
        raise ConfigError("to_backtrader needs backtrader: pip install backtrader") from exc
    return bt.feeds.PandasData(dataname=backtrader_frame(df), openinterest=None, **feed_options)
