"""Moving-average cross: long when the fast average crosses above the slow one, out below."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.indicators import api as ta
from barlake.strategies.base import Param, Signals, Strategy
from barlake.strategies.frame import Frame, as_frame
from barlake.strategies.nb import cross_nb


def ma_cross(
    bars: pd.DataFrame | Frame, fast: int = 10, slow: int = 50, kind: str = "sma"
) -> Signals:
    """Entries where MA(fast) crosses above MA(slow), exits where it crosses below (SMA or EMA)."""
    frame = as_frame(bars)
    average = ta.sma if kind == "sma" else ta.ema
    a = frame.cached((kind, fast), lambda: average(frame.close, fast))
    b = frame.cached((kind, slow), lambda: average(frame.close, slow))
    entries = np.empty(len(frame), dtype=np.bool_)
    exits = np.empty(len(frame), dtype=np.bool_)
    cross_nb(a, b, entries, exits)
    return Signals(entries, exits)


STRATEGY = Strategy(
    name="ma_cross",
    func=ma_cross,
    params=(
        Param("fast", "int", 10, 2, 100, 1, help="bars of the fast average"),
        Param("slow", "int", 50, 5, 400, 5, help="bars of the slow average"),
        Param("kind", "choice", "sma", choices=("sma", "ema"), help="average type"),
    ),
    constraints=("fast < slow",),
    doc=__doc__ or "",
)
