"""Seeded random-walk bars shared by the test suites: valid OHLC, volumes on a 1/8 grid so
sums are exact in any order and tests can demand equality."""

from __future__ import annotations

import numpy as np
import pandas as pd


def random_walk(
    start_ms: int,
    n: int,
    step_ms: int,
    *,
    seed: int = 0,
    price: float = 100.0,
    sigma: float = 1e-3,
    min_volume: int = 0,
) -> pd.DataFrame:
    """`n` consecutive bars of `step_ms` from `start_ms`: a geometric random walk."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.concatenate(([price], close[:-1]))
    stamps = start_ms + np.arange(n, dtype=np.int64) * step_ms
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1.0 + rng.random(n) * sigma),
            "low": np.minimum(open_, close) * (1.0 - rng.random(n) * sigma),
            "close": close,
            "volume": rng.integers(min_volume, 8_000, n) / 8.0,
        },
        index=pd.DatetimeIndex(stamps.astype("datetime64[ms]"), name="time").tz_localize("UTC"),
    )
