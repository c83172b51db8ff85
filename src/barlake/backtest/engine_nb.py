"""The bar loop: one compiled simulation for every option set, with or without recording.

Each bar, in time order: (1) orders decided at the previous close fill at this open;
(2) stops and grid adds are checked against this bar's range, which comes after its open;
(3) at the close the kill-switch and the signals of this bar are read — they fill at the next
open, or at this close with `fill="close"`; (4) equity is marked at the close. Nothing reads a
later bar, which is why cutting the data never changes a trade that closed before the cut.

Equity, drawdown and the return sums for Sharpe/Sortino are accumulated inside the loop, so a
parameter sweep needs no per-bar arrays: pass zero-length `equity` and `rec` to skip recording.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from barlake.backtest.fills_nb import add_nb, close_nb, open_nb
from barlake.backtest.layout import (
    INTRABAR_NEAREST_EXTREME,
    INTRABAR_OHLC_PATH,
    MODE_GRID,
    N_STATE,
    P_FILL_CLOSE,
    P_GRID_ADDS,
    P_GRID_STEP,
    P_INIT_CASH,
    P_INTRABAR,
    P_MAX_DD,
    P_MODE,
    REASON_END,
    REASON_KILL,
    REASON_SIGNAL,
    REASON_SL,
    REASON_TP,
    S_ADDS,
    S_BARS,
    S_CASH,
    S_EXPOSED,
    S_KILLED,
    S_LAST_FILL,
    S_MAX_DD,
    S_MULT,
    S_PEAK,
    S_PREV_EQ,
    S_SL_LVL,
    S_SUM_DOWN2,
    S_SUM_R,
    S_SUM_R2,
    S_TP_LVL,
    S_UNITS,
)


@njit(cache=True, nogil=True)
def reset_state_nb(p: np.ndarray, st: np.ndarray) -> None:
    st[:N_STATE] = 0.0
    st[S_CASH] = p[P_INIT_CASH]
    st[S_PEAK] = p[P_INIT_CASH]
    st[S_PREV_EQ] = p[P_INIT_CASH]
    st[S_MULT] = 1.0
    st[S_TP_LVL] = np.nan
    st[S_SL_LVL] = np.nan


@njit(cache=True, nogil=True)
def _sl_first_nb(op: float, hi: float, lo: float, cl: float, side: float, rule: float) -> bool:
    """Both TP and SL inside one bar: which came first? `sl_first` assumes the worst;
    `ohlc_path` walks O→L→H→C on an up bar and O→H→L→C on a down bar; `nearest_extreme`
    takes the extreme nearer the open as touched first (ties: the stop)."""
    if rule == INTRABAR_OHLC_PATH:
        return (cl >= op) == (side > 0)
    if rule == INTRABAR_NEAREST_EXTREME:
        low_nearer = op - lo <= hi - op
        high_nearer = hi - op <= op - lo
        return low_nearer if side > 0 else high_nearer
    return True


@njit(cache=True, nogil=True)
def stop_exit_nb(
    op: float, hi: float, lo: float, cl: float, rule: float, st: np.ndarray
) -> tuple[float, int]:
    """(price, reason) of a TP/SL exit in this bar, or (NaN, -1). A bar opening beyond a level
    fills at the open (gap), else at the level; both inside the bar: the intrabar rule decides.
    Pure (no fills here), so the hot loop pays no call overhead on bars without an exit."""
    tp = st[S_TP_LVL]
    sl = st[S_SL_LVL]
    has_tp = tp == tp
    has_sl = sl == sl
    side = 1.0 if st[S_UNITS] > 0 else -1.0
    price = np.nan
    reason = -1
    if has_sl & (side * (op - sl) <= 0.0):
        price, reason = op, REASON_SL
    elif has_tp & (side * (op - tp) >= 0.0):
        price, reason = op, REASON_TP
    else:
        adverse = lo if side > 0 else hi
        favourable = hi if side > 0 else lo
        hit_sl = has_sl & (side * (adverse - sl) <= 0.0)
        hit_tp = has_tp & (side * (favourable - tp) >= 0.0)
        if hit_sl & hit_tp:
            hit_sl = _sl_first_nb(op, hi, lo, cl, side, rule)
        if hit_sl:
            price, reason = sl, REASON_SL
        elif hit_tp:
            price, reason = tp, REASON_TP
    return price, reason


@njit(cache=True, nogil=True)
def grid_fill_nb(op: float, hi: float, lo: float, p: np.ndarray, st: np.ndarray) -> float:
    """Price of this bar's grid add, or NaN: one add per bar once price has moved `grid_step`
    against the last fill (gap: at the open). New TP/SL levels apply from the next bar, as the
    path after the add is unknown."""
    if (st[S_UNITS] == 0.0) | (st[S_ADDS] >= p[P_GRID_ADDS]):
        return np.nan
    side = 1.0 if st[S_UNITS] > 0 else -1.0
    level = st[S_LAST_FILL] * (1.0 - side * p[P_GRID_STEP])
    if side * (op - level) <= 0.0:
        return op
    if side * ((lo if side > 0 else hi) - level) <= 0.0:
        return level
    return np.nan


@njit(cache=True, nogil=True)
def _kill_nb(value: float, p: np.ndarray, st: np.ndarray) -> bool:
    """True on the bar where the drawdown from the equity peak first reaches P_MAX_DD."""
    limit = p[P_MAX_DD]
    if (limit != limit) | (st[S_KILLED] > 0.0):
        return False
    peak = max(st[S_PEAK], value)
    if (peak > 0.0) & (1.0 - value / peak >= limit):
        st[S_KILLED] = 1.0
        return True
    return False


@njit(cache=True, nogil=True)
def _flag(values: np.ndarray, i: int) -> bool:
    """values[i], or False for a signal array left empty (no shorts, no exits)."""
    if i < values.shape[0]:
        return values[i]
    return False


@njit(cache=True, nogil=True)
def _atr(values: np.ndarray, i: int) -> float:
    if i < values.shape[0]:
        return values[i]
    return np.nan


@njit(cache=True, nogil=True)
def _decide_nb(i: int, le, lx, se, sx, st: np.ndarray) -> tuple[bool, int]:
    """Orders from this bar's signals: (close the position?, side to open: 1, -1 or 0).
    An exit on the same bar as an entry wins; an entry while already in that side is ignored.
    (`&`/`|`, not `and`/`or`: numba compiles short-circuit chains here into ~20x slower code.)"""
    units = st[S_UNITS]
    long_exit = _flag(lx, i)
    short_exit = _flag(sx, i)
    can_open = st[S_KILLED] == 0.0
    long_in = can_open & _flag(le, i) & (not long_exit)
    short_in = can_open & _flag(se, i) & (not short_exit)
    close = False
    side = 0
    if units > 0.0:
        close = long_exit | short_in
        if short_in:
            side = -1
    elif units < 0.0:
        close = short_exit | long_in
        if long_in:
            side = 1
    elif long_in:
        side = 1
    elif short_in:
        side = -1
    return close, side


@njit(cache=True, nogil=True)
def _execute_nb(bar, price, do_close, reason, side, atr_value, p, st, rec) -> None:
    if do_close & (st[S_UNITS] != 0.0):
        close_nb(bar, price, reason, p, st, rec)
    if (side != 0) & (st[S_UNITS] == 0.0):
        open_nb(bar, float(side), price, atr_value, p, st)


@njit(cache=True, nogil=True)
def _mark_nb(i: int, close: float, held: bool, st: np.ndarray, equity: np.ndarray) -> None:
    """Equity at the close, its return, running peak and max drawdown, exposure."""
    value = st[S_CASH] + st[S_UNITS] * close
    prev = st[S_PREV_EQ]
    r = value / prev - 1.0 if prev > 0.0 else 0.0
    down = min(r, 0.0)  # branch-free: signs of returns are a coin flip for the predictor
    st[S_SUM_R] += r
    st[S_SUM_R2] += r * r
    st[S_SUM_DOWN2] += down * down
    peak = max(st[S_PEAK], value)
    st[S_PEAK] = peak
    st[S_MAX_DD] = max(st[S_MAX_DD], 1.0 - value / peak if peak > 0.0 else 0.0)
    st[S_EXPOSED] += held
    st[S_PREV_EQ] = value
    st[S_BARS] += 1.0
    if equity.shape[0] > 0:
        equity[i] = value


@njit(cache=True, nogil=True)
def simulate_nb(o, h, lo, c, le, lx, se, sx, atr, p, st, equity, rec) -> None:
    """Run one backtest. Inputs: equal-length float64 prices, bool signals and ATR (NaN where
    unknown; unused signals and ATR may be empty arrays). `p` holds the parameters, `st`
    receives the final state and accumulators, `equity` (length n, or 0 to skip) the marked
    equity and `rec` (enough rows, or 0 to skip) the trades."""
    n = c.shape[0]
    reset_state_nb(p, st)
    at_close = p[P_FILL_CLOSE] > 0.5
    grid = p[P_MODE] == MODE_GRID
    pend_close, pend_reason, pend_side, pend_bar = False, REASON_SIGNAL, 0, 0
    for i in range(n):
        if pend_close | (pend_side != 0):
            _execute_nb(
                i, o[i], pend_close, pend_reason, pend_side, _atr(atr, pend_bar), p, st, rec
            )
            pend_close, pend_side = False, 0
        held = st[S_UNITS] != 0.0
        if held:
            price, why = stop_exit_nb(o[i], h[i], lo[i], c[i], p[P_INTRABAR], st)
            if why >= 0:
                close_nb(i, price, why, p, st, rec)
            if grid:
                add_price = grid_fill_nb(o[i], h[i], lo[i], p, st)
                if add_price == add_price:
                    add_nb(add_price, p, st)
        killed = _kill_nb(st[S_CASH] + st[S_UNITS] * c[i], p, st)
        if i == n - 1:
            if st[S_UNITS] != 0.0:
                close_nb(i, c[i], REASON_KILL if killed else REASON_END, p, st, rec)
        else:
            do_close, side = _decide_nb(i, le, lx, se, sx, st)
            reason = REASON_SIGNAL
            if killed & (st[S_UNITS] != 0.0):
                do_close, side, reason = True, 0, REASON_KILL
            if at_close:
                _execute_nb(i, c[i], do_close, reason, side, _atr(atr, i), p, st, rec)
            else:
                pend_close, pend_reason, pend_side, pend_bar = do_close, reason, side, i
        _mark_nb(i, c[i], held, st, equity)
