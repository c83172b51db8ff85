"""Volatility: true range, ATR/NATR (Wilder) and Bollinger bands, in TA-Lib's arithmetic."""

from __future__ import annotations

import numpy as np
from numba import njit

# TA-Lib's TA_IS_ZERO threshold (NATR of a zero close is 0, not inf).
_EPS = 1e-14


@njit(cache=True, nogil=True)
def _tr(high: np.ndarray, low: np.ndarray, close: np.ndarray, i: int) -> float:
    prev = close[i - 1]
    return max(high[i] - low[i], abs(prev - high[i]), abs(prev - low[i]))


@njit(cache=True, nogil=True)
def true_range_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, out: np.ndarray) -> None:
    """True range, NaN on the first bar (no previous close); equals `talib.TRANGE`.

    pandas: `pd.concat([h - l, (h - c.shift()).abs(), (l - c.shift()).abs()], axis=1).max(1)`.
    """
    if close.shape[0]:
        out[0] = np.nan
    for i in range(1, close.shape[0]):
        out[i] = _tr(high, low, close, i)


@njit(cache=True, nogil=True, fastmath={"contract"})
def atr_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    n: int,
    normalized: bool,
    out: np.ndarray,
) -> None:
    """Wilder ATR (or NATR, ATR as % of close); equals `talib.ATR` / `talib.NATR`, first at n.

    Seeded by the mean of the first n true ranges (bars 1..n), then `prev * (n-1)/n + tr / n`:
    pandas `tr.ewm(alpha=1/n, adjust=False)` after that seed. One multiply-add per step keeps
    the loop-carried chain short (TA-Lib's speed); results move by ~1e-16 relative.
    """
    m = close.shape[0]
    out[: min(n, m)] = np.nan
    if m <= n:
        return
    total = 0.0
    for i in range(1, n + 1):
        total += _tr(high, low, close, i)
    prev = total / n
    keep = (n - 1) / n
    step = 1.0 / n
    for i in range(n, m):
        if i > n:
            prev = prev * keep + _tr(high, low, close, i) * step
        if normalized:
            c = close[i]
            out[i] = (prev / c) * 100.0 if not (-_EPS < c < _EPS) else 0.0
        else:
            out[i] = prev


@njit(cache=True, nogil=True)
def _centred_sums(x: np.ndarray, lo: int, hi: int, ref: float) -> tuple[float, float]:
    s1 = 0.0
    s2 = 0.0
    for j in range(lo, hi):
        d = x[j] - ref
        s1 += d
        s2 += d * d
    return s1, s2


@njit(cache=True, nogil=True)
def bbands_1d_nb(
    x: np.ndarray,
    n: int,
    k: float,
    lower: np.ndarray,
    middle: np.ndarray,
    upper: np.ndarray,
    z: np.ndarray,
) -> None:
    """Bollinger lower, middle, upper and z-score; the bands equal `talib.BBANDS(x, n, k, k, 0)`.

    Middle is TA-Lib's running-total SMA (times 1/n: a second division per bar costs 30%).
    The deviation is the population std (pandas `rolling(n).std(ddof=0)`) from window sums of
    `x - ref`, `ref` re-centred every n bars: `E[x^2] - E[x]^2` on raw prices cancels (a 1e-3
    std on a 1.1 price loses 6 digits), centred sums do not, nor drift. z is 0 on flat windows.
    """
    m = x.shape[0]
    for out in (lower, middle, upper, z):
        out[: min(n - 1, m)] = np.nan
    inv = 1.0 / n
    total = _centred_sums(x, 0, min(n - 1, m), 0.0)[0]
    ref, s1, s2, countdown = 0.0, 0.0, 0.0, 0
    for i in range(n - 1, m):
        v = x[i]
        total += v
        mean = total * inv
        total -= x[i - n + 1]
        if countdown == 0:
            ref, countdown = mean, n
            s1, s2 = _centred_sums(x, i - n + 1, i + 1, ref)
        else:
            d_new, d_old = v - ref, x[i - n] - ref
            s1 += d_new - d_old
            s2 += d_new * d_new - d_old * d_old
        countdown -= 1
        var = s2 * inv - (s1 * inv) ** 2
        std = np.sqrt(var) if var > 0.0 else 0.0
        middle[i] = mean
        upper[i] = mean + std * k
        lower[i] = mean - std * k
        z[i] = (v - mean) / std if std > 0.0 else 0.0
