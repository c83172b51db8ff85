"""Seeded hourly bars with real wicks for the strategy tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_bars(n: int = 2_000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.random(n) * 0.01),
            "low": np.minimum(open_, close) * (1 - rng.random(n) * 0.01),
            "close": close,
            "volume": rng.uniform(1, 10, n),
        },
        index=pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="time"),
    )


@pytest.fixture(scope="session")
def hourly() -> pd.DataFrame:
    return make_bars()
