"""RSI mean reversion: buy when RSI is oversold, sell when it is overbought."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.indicators import api as ta
from barlake.strategies.base import Param, Signals, Strategy
from barlake.strategies.frame import Frame, as_frame


def rsi_reversion(
    bars: pd.DataFrame | Frame, n: int = 14, lower: float = 30.0, upper: float = 70.0
) -> Signals:
    """Entries while RSI(n) < lower, exits while RSI(n) > upper (NaN warm-up: no signal)."""
    frame = as_frame(bars)
    rsi = frame.cached(("rsi", n), lambda: ta.rsi(frame.close, n))
    with np.errstate(invalid="ignore"):
        return Signals(rsi < lower, rsi > upper)


STRATEGY = Strategy(
    name="rsi_reversion",
    func=rsi_reversion,
    params=(
        Param("n", "int", 14, 2, 50, 2, help="RSI period"),
        Param("lower", "float", 30.0, 5.0, 50.0, 5.0, help="oversold level: enter below"),
        Param("upper", "float", 70.0, 50.0, 95.0, 5.0, help="overbought level: exit above"),
    ),
    constraints=("lower < upper",),
    doc=__doc__ or "",
)
