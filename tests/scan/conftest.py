"""A small lake with a few 1h series to scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barlake.lake import Lake


def make_bars(n: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(drift, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": rng.uniform(1, 10, n),
        },
        index=index,
    )


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    store = Lake(tmp_path / "lake")
    store.write("binance", "UPUSDT", "1h", make_bars(400, 1, drift=0.004))
    store.write("binance", "DOWNUSDT", "1h", make_bars(400, 2, drift=-0.004))
    store.write("binance", "FLATUSDT", "1h", make_bars(400, 3))
    store.write("binance", "NEWUSDT", "1h", make_bars(30, 4))
    store.write("binance_swap", "UPUSDT", "1h", make_bars(400, 5, drift=0.004))
    store.write("dukascopy", "EURUSD", "1h", make_bars(400, 6))
    return store
