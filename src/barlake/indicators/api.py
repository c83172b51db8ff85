"""Indicator functions over numpy arrays or pandas Series: validate, strip leading NaNs, call a kernel.

numpy in gives float64 numpy out; a Series in gives Series out on the same index, named like the
column `add` would create. Leading NaNs are skipped as TA-Lib's Python wrapper does, so an
indicator of an indicator lines up with TA-Lib's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from barlake.errors import ConfigError
from barlake.indicators import nb

Values = TypeVar("Values", np.ndarray, pd.Series)

_DAY_NS = 86_400_000_000_000
# 1970-01-01 was a Thursday: weeks open on Monday 00:00 UTC, four days after the epoch.
_WEEK_ORIGIN_NS = 4 * _DAY_NS


class ParameterError(ConfigError, ValueError):
    """An indicator parameter or input is out of range: fix the call (a ValueError too)."""


def _period(name: str, value: Any, minimum: int = 1) -> int:
    """Accept ints only (no bools, no 14.0) so a typo never silently becomes another period."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _inputs(*values: Any) -> tuple[list[np.ndarray], pd.Index | None]:
    """float64 contiguous arrays of equal length, plus the index of the first Series (if any)."""
    index = next((v.index for v in values if isinstance(v, pd.Series)), None)
    arrays = []
    for value in values:
        raw = value.to_numpy(dtype=np.float64) if isinstance(value, pd.Series) else value
        array = np.ascontiguousarray(raw, dtype=np.float64)
        if array.ndim != 1:
            raise ParameterError(f"inputs must be one-dimensional, got shape {array.shape}")
        arrays.append(array)
    if len({a.shape[0] for a in arrays}) > 1:
        raise ParameterError(f"inputs differ in length: {[a.shape[0] for a in arrays]}")
    return arrays, index


def _first_valid(arrays: list[np.ndarray]) -> int:
    """Index of the first bar where no input is NaN (0 on the fast path)."""
    if not arrays[0].shape[0] or not any(np.isnan(a[0]) for a in arrays):
        return 0
    bad = np.zeros(arrays[0].shape[0], dtype=np.bool_)
    for array in arrays:
        bad |= np.isnan(array)
    good = np.flatnonzero(~bad)
    return int(good[0]) if good.size else arrays[0].shape[0]


def _run(kernel: Callable[..., Any], arrays: list[np.ndarray], outputs: int, *params: Any) -> tuple:
    """Allocate the outputs with numpy (huge pages: see nb.averages), NaN the rows before the
    first valid input, and let the kernel fill the rest from the NaN-free tail."""
    length = arrays[0].shape[0]
    outs = tuple(np.empty(length) for _ in range(outputs))
    start = _first_valid(arrays)
    if start:
        for out in outs:
            out[:start] = np.nan
        arrays = [a[start:] for a in arrays]
        kernel(*arrays, *params, *(o[start:] for o in outs))
    else:
        kernel(*arrays, *params, *outs)
    return outs


def _wrap(outs: tuple, index: pd.Index | None, names: tuple[str, ...]) -> Any:
    """Series on the caller's index when a Series came in; a single output is not a tuple."""
    if index is not None:
        outs = tuple(pd.Series(o, index=index, name=n) for o, n in zip(outs, names, strict=True))
    return outs[0] if len(outs) == 1 else outs


def sma(close: Values, n: int) -> Values:
    """Simple moving average; NaN for the first n-1 bars (TA-Lib `SMA`)."""
    arrays, index = _inputs(close)
    return _wrap(_run(nb.sma_1d_nb, arrays, 1, _period("n", n)), index, (f"sma{n}",))


def ema(close: Values, n: int) -> Values:
    """EMA seeded by the SMA of the first n bars, k = 2/(n+1); first value at n-1 (TA-Lib `EMA`)."""
    arrays, index = _inputs(close)
    return _wrap(_run(nb.ema_1d_nb, arrays, 1, _period("n", n)), index, (f"ema{n}",))


def rsi(close: Values, n: int = 14) -> Values:
    """Wilder RSI in [0, 100], first value at bar n; a flat window gives 0 (TA-Lib `RSI`)."""
    arrays, index = _inputs(close)
    return _wrap(_run(nb.rsi_1d_nb, arrays, 1, _period("n", n)), index, (f"rsi{n}",))


def macd(close: Values, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple:
    """(macd, signal, hist), all NaN until bar slow+signal-2, exactly as TA-Lib `MACD`."""
    fast, slow, signal = _period("fast", fast), _period("slow", slow), _period("signal", signal)
    if fast >= slow:
        raise ParameterError(f"macd needs fast < slow, got fast={fast}, slow={slow}")
    arrays, index = _inputs(close)
    tag = f"{fast}_{slow}_{signal}"
    names = (f"MACD_{tag}", f"MACDs_{tag}", f"MACDh_{tag}")
    return _wrap(_run(nb.macd_1d_nb, arrays, 3, fast, slow, signal), index, names)


def bbands(close: Values, n: int = 20, k: float = 2.0) -> tuple:
    """(lower, middle, upper, zscore): SMA ± k population std devs (TA-Lib `BBANDS`, SMA type)."""
    n = _period("n", n)
    if isinstance(k, bool) or not np.isfinite(k) or k <= 0:
        raise ParameterError(f"k must be a positive number of standard deviations, got {k!r}")
    arrays, index = _inputs(close)
    tag = f"{n}_{float(k)}"
    names = (f"BBL_{tag}", f"BBM_{tag}", f"BBU_{tag}", f"BBZ_{tag}")
    return _wrap(_run(nb.bbands_1d_nb, arrays, 4, n, float(k)), index, names)


def atr(high: Values, low: Values, close: Values, n: int = 14) -> Values:
    """Wilder average true range, first value at bar n (TA-Lib `ATR`)."""
    arrays, index = _inputs(high, low, close)
    return _wrap(_run(nb.atr_nb, arrays, 1, _period("n", n), False), index, (f"atr{n}",))


def natr(high: Values, low: Values, close: Values, n: int = 14) -> Values:
    """ATR as a percentage of the close, so instruments of any price compare (TA-Lib `NATR`)."""
    arrays, index = _inputs(high, low, close)
    return _wrap(_run(nb.atr_nb, arrays, 1, _period("n", n), True), index, (f"natr{n}",))


def obv(close: Values, volume: Values) -> Values:
    """On-balance volume, starting at the first bar's volume (TA-Lib `OBV`)."""
    arrays, index = _inputs(close, volume)
    return _wrap(_run(nb.obv_nb, arrays, 1), index, ("obv",))


def vortex(high: Values, low: Values, close: Values, n: int = 14) -> tuple:
    """(vi_plus, vi_minus), first values at bar n (pandas-ta `vortex`; TA-Lib has none)."""
    arrays, index = _inputs(high, low, close)
    names = (f"VTXP_{n}", f"VTXM_{n}")
    return _wrap(_run(nb.vortex_nb, arrays, 2, _period("n", n)), index, names)


def stoch(
    high: Values, low: Values, close: Values, k: int = 14, smooth_k: int = 3, d: int = 3
) -> tuple:
    """(slow %K, slow %D) with SMA smoothing, both from bar k+smooth_k+d-3 (TA-Lib `STOCH`)."""
    k, smooth_k, d = _period("k", k), _period("smooth_k", smooth_k), _period("d", d)
    arrays, index = _inputs(high, low, close)
    names = (f"STOCHk_{k}_{smooth_k}_{d}", f"STOCHd_{k}_{smooth_k}_{d}")
    return _wrap(_run(nb.stoch_nb, arrays, 2, k, smooth_k, d), index, names)


def vwap(
    high: Values,
    low: Values,
    close: Values,
    volume: Values,
    window: int | None = None,
    anchor: str | None = None,
    *,
    times: Any = None,
) -> Values:
    """VWAP of the typical price (h+l+c)/3: over the last `window` bars, or since each UTC
    day (`anchor="D"`) or Monday-00:00 week (`anchor="W"`) began.

    Anchoring needs bar times: a Series' DatetimeIndex, or `times` (datetime64 values, or
    int epoch milliseconds as the lake stores them) for numpy input.
    """
    if (window is None) == (anchor is None):
        raise ParameterError("vwap needs exactly one of window=N or anchor='D'/'W'")
    arrays, index = _inputs(high, low, close, volume)
    if window is not None:
        n = _period("window", window)
        return _wrap(_run(nb.vwap_rolling_nb, arrays, 1, n), index, (f"vwap{n}",))
    unit = str(anchor).upper()
    if unit not in ("D", "W"):
        raise ParameterError(f"vwap anchor must be 'D' (UTC day) or 'W' (week), got {anchor!r}")
    groups = _anchor_groups(times if times is not None else index, unit, arrays[0].shape[0])
    outs = _run(nb.vwap_anchored_nb, [*arrays, groups], 1)
    return _wrap(outs, index, (f"vwap_{unit}",))


def _anchor_groups(times: Any, unit: str, length: int) -> np.ndarray:
    """Day or week number of every bar, as float64 so it rides through `_run` with the prices."""
    if times is None:
        raise ParameterError("anchored vwap needs bar times: pass a Series or times=...")
    if isinstance(times, pd.DatetimeIndex):
        stamps = times.tz_convert("UTC").tz_localize(None) if times.tz is not None else times
        ns = stamps.as_unit("ns").asi8
    else:
        raw = np.asarray(times)
        if np.issubdtype(raw.dtype, np.integer):
            ns = raw.astype(np.int64) * 1_000_000
        elif np.issubdtype(raw.dtype, np.datetime64):
            ns = raw.astype("datetime64[ns]").view(np.int64)
        else:
            raise ParameterError(f"times must be datetime64 or epoch ms, got {raw.dtype}")
    if ns.shape[0] != length:
        raise ParameterError(f"times has {ns.shape[0]} values for {length} bars")
    if unit == "D":
        return (ns // _DAY_NS).astype(np.float64)
    return ((ns - _WEEK_ORIGIN_NS) // (7 * _DAY_NS)).astype(np.float64)
