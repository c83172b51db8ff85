"""Volume-weighted indicators: OBV, VWAP (rolling or anchored) and the Vortex indicator."""

from __future__ import annotations

import numpy as np
from numba import njit

from barlake.indicators.nb.averages import rolling_sum_1d_nb
from barlake.indicators.nb.volatility import true_range_nb


@njit(cache=True, nogil=True)
def obv_nb(close: np.ndarray, volume: np.ndarray, out: np.ndarray) -> None:
    """On-balance volume starting at the first bar's volume; equals `talib.OBV`.

    pandas: `(np.sign(c.diff()).fillna(0) * v).cumsum() + v.iloc[0]`.
    """
    m = close.shape[0]
    if m == 0:
        return
    total = volume[0]
    prev = close[0]
    out[0] = total
    for i in range(1, m):
        c = close[i]
        if c > prev:
            total += volume[i]
        elif c < prev:
            total -= volume[i]
        out[i] = total
        prev = c


@njit(cache=True, nogil=True)
def vwap_rolling_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    n: int,
    out: np.ndarray,
) -> None:
    """VWAP of the typical price over the last n bars, NaN until full or when volume is 0.

    pandas: `(tp * v).rolling(n).sum() / v.rolling(n).sum()` with `tp = (h + l + c) / 3`.
    """
    m = close.shape[0]
    pv = np.empty(m)
    for i in range(m):
        pv[i] = (high[i] + low[i] + close[i]) / 3.0 * volume[i]
    pv_sum = np.empty(m)
    rolling_sum_1d_nb(pv, n, pv_sum)
    rolling_sum_1d_nb(volume, n, out)
    for i in range(m):
        out[i] = pv_sum[i] / out[i] if out[i] != 0.0 else np.nan


@njit(cache=True, nogil=True)
def vwap_anchored_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    group: np.ndarray,
    out: np.ndarray,
) -> None:
    """VWAP accumulated since the bar where `group` (e.g. the UTC day number) last changed.

    pandas: `(tp * v).groupby(day).cumsum() / v.groupby(day).cumsum()`; NaN while volume is 0.
    """
    pv = 0.0
    vol = 0.0
    for i in range(close.shape[0]):
        if i == 0 or group[i] != group[i - 1]:
            pv = 0.0
            vol = 0.0
        pv += (high[i] + low[i] + close[i]) / 3.0 * volume[i]
        vol += volume[i]
        out[i] = pv / vol if vol != 0.0 else np.nan


@njit(cache=True, nogil=True)
def vortex_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    n: int,
    plus: np.ndarray,
    minus: np.ndarray,
) -> None:
    """Vortex VI+ and VI-: n-bar sums of |h - prev l| and |l - prev h| over the sum of true range.

    pandas (pandas-ta `vortex`): `(h - l.shift()).abs().rolling(n).sum() / tr.rolling(n).sum()`;
    the first value is at index n because bar 0 has no previous bar. NaN where the window's
    true range sums to 0 (pandas would give inf or NaN there).
    """
    m = close.shape[0]
    plus[:] = np.nan
    minus[:] = np.nan
    if m <= n:
        return
    up = np.empty(m - 1)
    down = np.empty(m - 1)
    for i in range(1, m):
        up[i - 1] = abs(high[i] - low[i - 1])
        down[i - 1] = abs(low[i] - high[i - 1])
    tr = np.empty(m)
    true_range_nb(high, low, close, tr)
    tr_sum = np.empty(m - 1)
    up_sum = np.empty(m - 1)
    down_sum = np.empty(m - 1)
    rolling_sum_1d_nb(tr[1:], n, tr_sum)
    rolling_sum_1d_nb(up, n, up_sum)
    rolling_sum_1d_nb(down, n, down_sum)
    for i in range(n, m):
        if tr_sum[i - 1] != 0.0:  # a window of flat, gapless bars has no direction: leave NaN
            plus[i] = up_sum[i - 1] / tr_sum[i - 1]
            minus[i] = down_sum[i - 1] / tr_sum[i - 1]
