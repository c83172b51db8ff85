"""Shared builders: seeded geometric-walk 1m bars and an empty lake in a temp folder."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from barlake.dates import to_ms
from barlake.lake import Lake

MINUTE_MS = 60_000


def walk_1m(start: str | int, minutes: int, *, seed: int = 0, price: float = 100.0) -> pd.DataFrame:
    """`minutes` consecutive 1m bars from `start` (UTC): a geometric random walk, valid OHLC.

    Volumes sit on a 1/8 grid so sums are exact in any order and tests can demand equality.
    """
    rng = np.random.default_rng(seed)
    start_ms = to_ms(start)
    assert start_ms is not None
    close = price * np.exp(np.cumsum(rng.normal(0.0, 1e-3, minutes)))
    open_ = np.concatenate(([price], close[:-1]))
    stamps = start_ms + np.arange(minutes, dtype=np.int64) * MINUTE_MS
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1.0 + rng.random(minutes) * 1e-3),
            "low": np.minimum(open_, close) * (1.0 - rng.random(minutes) * 1e-3),
            "close": close,
            "volume": rng.integers(0, 8_000, minutes) / 8.0,
        },
        index=pd.DatetimeIndex(stamps.astype("datetime64[ms]"), name="time").tz_localize("UTC"),
    )


@pytest.fixture
def walk() -> Callable[..., pd.DataFrame]:
    """The walk_1m builder, as a fixture so test modules need not import conftest."""
    return walk_1m


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")
