"""Momentum oscillators: RSI (Wilder), MACD and the slow stochastic, in TA-Lib's arithmetic."""

from __future__ import annotations

import numpy as np
from numba import njit

from barlake.indicators.nb.averages import sma_1d_nb

# TA-Lib's TA_IS_ZERO: sums smaller than this count as zero (flat prices give RSI 0, not NaN).
_EPS = 1e-14


@njit(cache=True, nogil=True)
def _rsi_value(gain: float, loss: float) -> float:
    total = gain + loss
    if -_EPS < total < _EPS:
        return 0.0
    return 100.0 * (gain / total)


@njit(cache=True, nogil=True, fastmath={"contract"})
def rsi_1d_nb(x: np.ndarray, n: int, out: np.ndarray) -> None:
    """Wilder's RSI; equals `talib.RSI(x, n)`, first value at index n.

    The seed is the plain mean of the first n gains and losses, then Wilder smoothing
    `avg = avg * (n-1)/n + new / n`, i.e. pandas `ewm(alpha=1/n, adjust=False)` after the seed.
    Written as one multiply-add per step (no division on the loop-carried chain) so it runs at
    TA-Lib's speed; that moves results by ~1e-16 relative, not more.
    """
    m = x.shape[0]
    out[: min(n, m)] = np.nan
    if m <= n:
        return
    gain = 0.0
    loss = 0.0
    for i in range(1, n + 1):
        diff = x[i] - x[i - 1]
        if diff < 0:
            loss -= diff
        else:
            gain += diff
    loss /= n
    gain /= n
    out[n] = _rsi_value(gain, loss)
    keep = (n - 1) / n
    step = 1.0 / n
    for i in range(n + 1, m):
        diff = x[i] - x[i - 1]
        up = diff if diff > 0.0 else 0.0
        down = -diff if diff < 0.0 else 0.0
        gain = gain * keep + up * step
        loss = loss * keep + down * step
        out[i] = _rsi_value(gain, loss)


@njit(cache=True, nogil=True)
def _mean(x: np.ndarray, lo: int, hi: int) -> float:
    total = 0.0
    for i in range(lo, hi):
        total += x[i]
    return total / (hi - lo)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _macd_seed(x: np.ndarray, fast: int, slow: int, signal: int) -> tuple:
    """EMAs and signal as they stand on bar `slow + signal - 2`, TA-Lib's first output."""
    ks = 2.0 / (slow + 1)
    kf = 2.0 / (fast + 1)
    slow_ema = _mean(x, 0, slow)
    fast_ema = _mean(x, slow - fast, slow)
    value = fast_ema - slow_ema
    total = value
    for i in range(slow, slow + signal - 1):
        slow_ema = ((x[i] - slow_ema) * ks) + slow_ema
        fast_ema = ((x[i] - fast_ema) * kf) + fast_ema
        value = fast_ema - slow_ema
        total += value
    return slow_ema, fast_ema, value, total / signal


@njit(cache=True, nogil=True, fastmath={"contract"})
def macd_1d_nb(
    x: np.ndarray,
    fast: int,
    slow: int,
    signal: int,
    line: np.ndarray,
    sig: np.ndarray,
    hist: np.ndarray,
) -> None:
    """MACD line, signal and histogram; equal `talib.MACD(x, fast, slow, signal)` bit for bit.

    pandas: `ewm(span=fast) - ewm(span=slow)` and its `ewm(span=signal)`, seeded like TA-Lib:
    the fast EMA by the mean of `x[slow-fast:slow]` (both EMAs start on bar slow-1), the signal
    by the mean of its first `signal` values; all outputs are NaN until bar slow+signal-2.
    Needs fast < slow.
    """
    m = x.shape[0]
    start = slow + signal - 2
    for out in (line, sig, hist):
        out[: min(start, m)] = np.nan
    if start >= m:
        return
    kf, ks, kg = 2.0 / (fast + 1), 2.0 / (slow + 1), 2.0 / (signal + 1)
    slow_ema, fast_ema, value, signal_ema = _macd_seed(x, fast, slow, signal)
    line[start] = value
    sig[start] = signal_ema
    hist[start] = value - signal_ema
    for i in range(start + 1, m):
        slow_ema = ((x[i] - slow_ema) * ks) + slow_ema
        fast_ema = ((x[i] - fast_ema) * kf) + fast_ema
        value = fast_ema - slow_ema
        signal_ema = ((value - signal_ema) * kg) + signal_ema
        line[i] = value
        sig[i] = signal_ema
        hist[i] = value - signal_ema


@njit(cache=True, nogil=True)
def _fast_k_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, k: int) -> np.ndarray:
    """Raw %K over full windows only (length m - k + 1); flat windows give 0 like TA-Lib."""
    m = close.shape[0]
    out = np.empty(max(m - k + 1, 0))
    for i in range(k - 1, m):
        hi = high[i - k + 1]
        lo = low[i - k + 1]
        for j in range(i - k + 2, i + 1):
            hi = max(hi, high[j])
            lo = min(lo, low[j])
        diff = (hi - lo) / 100.0
        out[i - k + 1] = (close[i] - lo) / diff if diff != 0.0 else 0.0
    return out


@njit(cache=True, nogil=True)
def stoch_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    k: int,
    smooth_k: int,
    d: int,
    slow_k: np.ndarray,
    slow_d: np.ndarray,
) -> None:
    """Slow %K (SMA of raw %K) and slow %D (SMA of slow %K); equal `talib.STOCH` with SMA types.

    pandas: `raw = 100 * (c - l.rolling(k).min()) / (h.rolling(k).max() - l.rolling(k).min())`,
    `slow_k = raw.rolling(smooth_k).mean()`, `slow_d = slow_k.rolling(d).mean()`; both outputs
    start together at bar `k + smooth_k + d - 3`, as in TA-Lib.
    """
    m = close.shape[0]
    start = min(k + smooth_k + d - 3, m)
    slow_k[:start] = np.nan
    slow_d[:start] = np.nan
    if start >= m:
        return
    raw = _fast_k_nb(high, low, close, k)
    sk = np.empty(raw.shape[0])
    sma_1d_nb(raw, smooth_k, sk)
    sd = np.empty(raw.shape[0] - smooth_k + 1)
    sma_1d_nb(sk[smooth_k - 1 :], d, sd)
    offset = k - 1 + smooth_k - 1
    for i in range(start, m):
        slow_k[i] = sk[i - k + 1]
        slow_d[i] = sd[i - offset]
