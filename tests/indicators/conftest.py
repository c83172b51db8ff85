"""Real bars for the indicator tests: backtesting.py ships hourly EURUSD and daily GOOG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

backtesting_test = pytest.importorskip("backtesting.test")


def _lake_shape(frame: pd.DataFrame) -> pd.DataFrame:
    """The lake's shape: lower-case float64 OHLCV on a UTC index named `time`."""
    out = frame.rename(columns=str.lower).astype(np.float64)
    out.index = pd.DatetimeIndex(out.index).tz_localize("UTC").rename("time")
    return out


@pytest.fixture(scope="session", params=["EURUSD", "GOOG"])
def real_bars(request: pytest.FixtureRequest) -> pd.DataFrame:
    return _lake_shape(getattr(backtesting_test, request.param))


@pytest.fixture(scope="session")
def eurusd() -> pd.DataFrame:
    return _lake_shape(backtesting_test.EURUSD)
