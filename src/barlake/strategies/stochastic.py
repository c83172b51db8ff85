"""Stochastic: buy a %K cross above %D in the oversold zone, sell a cross below when overbought."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.indicators import api as ta
from barlake.strategies.base import Param, Signals, Strategy
from barlake.strategies.frame import Frame, as_frame
from barlake.strategies.nb import cross_nb


def stochastic(
    bars: pd.DataFrame | Frame,
    k: int = 14,
    smooth_k: int = 3,
    d: int = 3,
    lower: float = 20.0,
    upper: float = 80.0,
) -> Signals:
    """Entries where slow %K crosses above %D below `lower`; exits where it crosses below %D
    above `upper` (TA-Lib STOCH with SMA smoothing)."""
    frame = as_frame(bars)
    key = ("stoch", k, smooth_k, d)
    slow_k, slow_d = frame.cached(
        key, lambda: ta.stoch(frame["high"], frame["low"], frame.close, k, smooth_k, d)
    )
    size = len(frame)
    up, down = np.empty(size, np.bool_), np.empty(size, np.bool_)
    cross_nb(slow_k, slow_d, up, down)
    with np.errstate(invalid="ignore"):
        return Signals(up & (slow_k < lower), down & (slow_k > upper))


STRATEGY = Strategy(
    name="stochastic",
    func=stochastic,
    params=(
        Param("k", "int", 14, 3, 50, 1, help="%K lookback"),
        Param("smooth_k", "int", 3, 1, 10, 1, help="%K smoothing"),
        Param("d", "int", 3, 1, 10, 1, help="%D period"),
        Param("lower", "float", 20.0, 5.0, 50.0, 5.0, help="oversold zone for entries"),
        Param("upper", "float", 80.0, 50.0, 95.0, 5.0, help="overbought zone for exits"),
    ),
    constraints=("lower < upper",),
    doc=__doc__ or "",
)
