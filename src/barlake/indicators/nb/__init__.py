"""Numba kernels: numpy in, numpy out, no pandas. Each mirrors TA-Lib's arithmetic step for step.

Kernels write into outputs the caller allocates (with numpy, see averages.py), assume leading
NaNs were already stripped (the pandas layer does that) and write NaN over the warm-up.
"""

from barlake.indicators.nb.averages import ema_1d_nb, rolling_sum_1d_nb, sma_1d_nb
from barlake.indicators.nb.oscillators import macd_1d_nb, rsi_1d_nb, stoch_nb
from barlake.indicators.nb.volatility import atr_nb, bbands_1d_nb, true_range_nb
from barlake.indicators.nb.volume import obv_nb, vortex_nb, vwap_anchored_nb, vwap_rolling_nb

__all__ = [
    "atr_nb",
    "bbands_1d_nb",
    "ema_1d_nb",
    "macd_1d_nb",
    "obv_nb",
    "rolling_sum_1d_nb",
    "rsi_1d_nb",
    "sma_1d_nb",
    "stoch_nb",
    "true_range_nb",
    "vortex_nb",
    "vwap_anchored_nb",
    "vwap_rolling_nb",
]
