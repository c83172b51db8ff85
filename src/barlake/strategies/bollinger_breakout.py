"""Bollinger breakout: buy a close above the upper band, sell when it falls below the middle."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.indicators import api as ta
from barlake.strategies.base import Param, Signals, Strategy
from barlake.strategies.frame import Frame, as_frame
from barlake.strategies.nb import cross_nb


def bollinger_breakout(bars: pd.DataFrame | Frame, n: int = 20, k: float = 2.0) -> Signals:
    """Entries where close crosses above SMA(n) + k·σ, exits where it crosses below SMA(n)."""
    frame = as_frame(bars)
    _, middle, upper, _ = frame.cached(
        ("bbands", n, k), lambda: ta.bbands(frame.close, n, float(k))
    )
    size = len(frame)
    entries, below_middle, scratch = (np.empty(size, np.bool_) for _ in range(3))
    cross_nb(frame.close, upper, entries, scratch)
    cross_nb(frame.close, middle, scratch, below_middle)
    return Signals(entries, below_middle)


STRATEGY = Strategy(
    name="bollinger_breakout",
    func=bollinger_breakout,
    params=(
        Param("n", "int", 20, 5, 100, 5, help="band period"),
        Param("k", "float", 2.0, 1.0, 3.5, 0.5, help="band width in standard deviations"),
    ),
    doc=__doc__ or "",
)
