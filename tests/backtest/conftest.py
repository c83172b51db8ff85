"""Real bars for the peer tests (backtesting.py ships hourly EURUSD and daily GOOG) and a
seeded hourly random walk for the engine's own tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def lake_shape(frame: pd.DataFrame) -> pd.DataFrame:
    """The lake's shape: lower-case float64 OHLCV on a UTC index named `time`."""
    out = frame.rename(columns=str.lower).astype(np.float64)
    out.index = pd.DatetimeIndex(out.index).tz_localize("UTC").rename("time")
    return out


def bars_from_close(close: np.ndarray, *, freq: str = "1h", wick: float = 0.002) -> pd.DataFrame:
    """Valid OHLC around a close path: open = previous close, wicks a fixed fraction out."""
    close = np.asarray(close, dtype=np.float64)
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + wick),
            "low": np.minimum(open_, close) * (1 - wick),
            "close": close,
            "volume": 1.0,
        },
        index=pd.date_range("2024-01-01", periods=len(close), freq=freq, tz="UTC", name="time"),
    )


@pytest.fixture(scope="session", params=["GOOG", "EURUSD"])
def real_bars(request: pytest.FixtureRequest) -> pd.DataFrame:
    return lake_shape(getattr(pytest.importorskip("backtesting.test"), request.param))


@pytest.fixture(scope="session")
def eurusd() -> pd.DataFrame:
    return lake_shape(pytest.importorskip("backtesting.test").EURUSD)


@pytest.fixture(scope="session")
def walk_bars() -> pd.DataFrame:
    """3,000 hourly bars of a seeded random walk with real wicks."""
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 3_000)))
    bars = bars_from_close(close)
    bars["high"] += np.abs(rng.normal(0, 0.4, len(bars)))
    bars["low"] -= np.abs(rng.normal(0, 0.4, len(bars)))
    return bars
