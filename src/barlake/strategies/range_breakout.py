"""Range (Donchian) breakout: buy a close above the last n bars' high, sell below a shorter low."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.strategies.base import Param, Signals, Strategy
from barlake.strategies.frame import Frame, as_frame
from barlake.strategies.nb import prior_extreme_nb


def _prior(frame: Frame, column: str, n: int, highest: bool) -> np.ndarray:
    out = np.empty(len(frame))
    prior_extreme_nb(frame[column], n, highest, out)
    return out


def range_breakout(bars: pd.DataFrame | Frame, n: int = 20, exit_n: int = 10) -> Signals:
    """Entries where close > the highest high of the n bars before; exits where close < the
    lowest low of the exit_n bars before (the current bar is never part of its own range)."""
    frame = as_frame(bars)
    high = frame.cached(("prior_high", n), lambda: _prior(frame, "high", n, True))
    low = frame.cached(("prior_low", exit_n), lambda: _prior(frame, "low", exit_n, False))
    with np.errstate(invalid="ignore"):
        return Signals(frame.close > high, frame.close < low)


STRATEGY = Strategy(
    name="range_breakout",
    func=range_breakout,
    params=(
        Param("n", "int", 20, 5, 200, 5, help="bars in the breakout range"),
        Param("exit_n", "int", 10, 5, 200, 5, help="bars in the exit range"),
    ),
    constraints=("exit_n <= n",),
    doc=__doc__ or "",
)
