"""Bars as float64 arrays with a memo of indicators, so a sweep computes each SMA once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from barlake.bars.frame import ohlcv_arrays
from barlake.errors import ConfigError


class Frame:
    """OHLCV arrays of one series (lower-case names; backtesting.py's capitalised ones work)
    and `cached(key, fn)`, which computes an indicator once per key. Thread-safe enough for
    a sweep: two threads may compute the same key, never a wrong value."""

    def __init__(self, bars: pd.DataFrame) -> None:
        self.arrays = ohlcv_arrays(bars, required=("close",))
        self._memo: dict[tuple, Any] = {}

    def __len__(self) -> int:
        return self.arrays["close"].shape[0]

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise ConfigError(f"this strategy needs a {name!r} column") from None

    @property
    def close(self) -> np.ndarray:
        return self.arrays["close"]

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


def as_frame(bars: pd.DataFrame | Frame) -> Frame:
    return bars if isinstance(bars, Frame) else Frame(bars)
