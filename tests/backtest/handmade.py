"""Hand-made bars where every price is known in advance, for the engine's exact tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.backtest import Result, from_signals

FLAT = (100.0, 100.5, 99.5, 100.0)


def bars(*rows: tuple[float, float, float, float]) -> pd.DataFrame:
    """Hourly bars from (open, high, low, close) rows, on a UTC index like the lake's."""
    data = np.asarray(rows, dtype=np.float64)
    return pd.DataFrame(
        {
            "open": data[:, 0],
            "high": data[:, 1],
            "low": data[:, 2],
            "close": data[:, 3],
            "volume": 1.0,
        },
        index=pd.date_range("2024-03-01", periods=len(rows), freq="1h", tz="UTC", name="time"),
    )


def flags(n: int, *at: int) -> np.ndarray:
    """A boolean signal, True at the given bars."""
    out = np.zeros(n, dtype=bool)
    out[list(at)] = True
    return out


def run(rows, entry_at=(1,), exit_at=(), **options) -> Result:
    """Backtest hand-made rows with entries/exits at the given bars, no fees unless asked."""
    frame = bars(*rows)
    n = len(frame)
    options.setdefault("fees_bps", 0.0)
    return from_signals(frame, flags(n, *entry_at), flags(n, *exit_at), **options)
