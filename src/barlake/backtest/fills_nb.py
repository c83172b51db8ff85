"""Fills: open, add to and close a position, with sizing, fees, slippage and stop levels.

Cash accounting is that of a spot account (and of backtesting.py and vectorbt): a buy of `u`
units at fill price `x` costs `u·x·(1 + fee)`, a sell returns `u·x·(1 − fee)`; a short sells
first and buys back later. Equity is `cash + units · close`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from barlake.backtest.layout import (
    MODE_MARTINGALE,
    P_ATR_MULT,
    P_FEE,
    P_KELLY,
    P_KELLY_MIN,
    P_MART_CAP,
    P_MART_MULT,
    P_MODE,
    P_SIZE,
    P_SIZING,
    P_SL,
    P_SLIP,
    P_TP,
    R_ADDS,
    R_ENTRY_BAR,
    R_ENTRY_PRICE,
    R_EXIT_BAR,
    R_EXIT_PRICE,
    R_FEES,
    R_PNL,
    R_REASON,
    R_RETURN,
    R_SIDE,
    R_UNITS,
    S_ADDS,
    S_AVG,
    S_BASE_NOTIONAL,
    S_CASH,
    S_ENTRY_BAR,
    S_ENTRY_FEES,
    S_FEES,
    S_GROSS_LOSS,
    S_GROSS_PROFIT,
    S_LAST_FILL,
    S_MULT,
    S_REC,
    S_SL_LVL,
    S_STOP_DIST,
    S_SUM_LOSS_RET,
    S_SUM_TRADE_RET,
    S_SUM_WIN_RET,
    S_TP_LVL,
    S_TRADES,
    S_UNITS,
    S_WINS,
    SIZING_FRACTION,
    SIZING_NOTIONAL,
    SIZING_RISK,
)


@njit(cache=True, nogil=True)
def set_levels_nb(p: np.ndarray, st: np.ndarray) -> None:
    """TP/SL levels from the average fill price: percentages, or a fixed ATR stop distance."""
    side = 1.0 if st[S_UNITS] > 0 else -1.0
    avg = st[S_AVG]
    st[S_TP_LVL] = avg * (1.0 + side * p[P_TP])  # NaN stays NaN: no take-profit
    if st[S_STOP_DIST] == st[S_STOP_DIST]:
        st[S_SL_LVL] = avg - side * st[S_STOP_DIST]
    else:
        st[S_SL_LVL] = avg * (1.0 - side * p[P_SL])


@njit(cache=True, nogil=True)
def kelly_fraction_nb(p: np.ndarray, st: np.ndarray) -> float:
    """Kelly's f* = W − (1 − W)/R from closed trades (W win rate, R mean win / mean loss),
    times the P_KELLY multiple; NaN until P_KELLY_MIN trades have closed (use `size` then)."""
    trades = st[S_TRADES]
    if (p[P_KELLY] <= 0.0) | (trades < p[P_KELLY_MIN]) | (trades == 0):
        return np.nan
    wins = st[S_WINS]
    losses = trades - wins
    if wins == 0:
        return 0.0
    if (losses == 0) | (st[S_SUM_LOSS_RET] == 0.0):
        return min(p[P_KELLY], 1.0)
    win_rate = wins / trades
    ratio = (st[S_SUM_WIN_RET] / wins) / (st[S_SUM_LOSS_RET] / losses)
    return min(p[P_KELLY] * (win_rate - (1.0 - win_rate) / ratio), 1.0)


@njit(cache=True, nogil=True)
def entry_units_nb(p: np.ndarray, st: np.ndarray, price: float, atr_value: float) -> float:
    """Units to buy or sell short when flat; 0 when the trade must be skipped.

    Fraction sizing spends `size × equity` including the fee (size 1.0: all of it);
    notional sizing spends `size`; risk sizing loses `size × equity` if an ATR stop
    `atr_mult × ATR` away is hit. Never more than equity (no leverage).
    """
    equity = st[S_CASH]
    if equity <= 0.0:
        return 0.0
    mult = st[S_MULT] if p[P_MODE] == MODE_MARTINGALE else 1.0
    cost = price * (1.0 + p[P_FEE])
    sizing = p[P_SIZING]
    if sizing == SIZING_FRACTION:
        fraction = p[P_SIZE]
        kelly = kelly_fraction_nb(p, st)
        if kelly == kelly:
            fraction = kelly
        units = min(fraction * mult, 1.0) * equity / cost
    elif sizing == SIZING_NOTIONAL:
        units = min(p[P_SIZE] * mult, equity) / cost
    else:
        distance = p[P_ATR_MULT] * atr_value
        if not distance > 0.0:
            return 0.0  # no ATR yet (warm-up): no stop, no size
        units = min(p[P_SIZE] * mult * equity / distance, equity / cost)
    return units if units > 0.0 else 0.0


@njit(cache=True, nogil=True)
def open_nb(bar: int, side: float, raw_price: float, atr_value: float, p, st) -> None:
    """Open a position at `raw_price` (slippage against us) when flat."""
    price = raw_price * (1.0 + side * p[P_SLIP])
    units = entry_units_nb(p, st, price, atr_value)
    if not units > 0.0:
        return
    fee = units * price * p[P_FEE]
    st[S_CASH] -= side * units * price + fee
    st[S_UNITS] = side * units
    st[S_AVG] = price
    st[S_ENTRY_BAR] = bar
    st[S_ENTRY_FEES] = fee
    st[S_FEES] += fee
    st[S_LAST_FILL] = price
    st[S_ADDS] = 0.0
    st[S_BASE_NOTIONAL] = units * price
    risk_stop = (p[P_SIZING] == SIZING_RISK) & (p[P_SL] != p[P_SL])
    st[S_STOP_DIST] = p[P_ATR_MULT] * atr_value if risk_stop else np.nan
    set_levels_nb(p, st)


@njit(cache=True, nogil=True)
def add_nb(raw_price: float, p: np.ndarray, st: np.ndarray) -> None:
    """Grid add: the first fill's notional again (as far as equity allows), new average."""
    side = 1.0 if st[S_UNITS] > 0 else -1.0
    price = raw_price * (1.0 + side * p[P_SLIP])
    held = abs(st[S_UNITS])
    room = st[S_CASH] + st[S_UNITS] * price - held * price  # equity not yet in the position
    notional = min(st[S_BASE_NOTIONAL], room / (1.0 + p[P_FEE]))
    if not notional > 0.0:
        return
    units = notional / price
    fee = notional * p[P_FEE]
    st[S_CASH] -= side * notional + fee
    st[S_AVG] = (held * st[S_AVG] + notional) / (held + units)
    st[S_UNITS] += side * units
    st[S_ENTRY_FEES] += fee
    st[S_FEES] += fee
    st[S_LAST_FILL] = price
    st[S_ADDS] += 1.0
    set_levels_nb(p, st)


@njit(cache=True, nogil=True)
def close_nb(bar: int, raw_price: float, reason: int, p, st, rec) -> None:
    """Close the whole position, book the trade in the accumulators and (if kept) a record."""
    units = st[S_UNITS]
    side = 1.0 if units > 0 else -1.0
    price = raw_price * (1.0 - side * p[P_SLIP])
    fee = abs(units) * price * p[P_FEE]
    st[S_CASH] += units * price - fee
    st[S_FEES] += fee
    fees = st[S_ENTRY_FEES] + fee
    pnl = units * (price - st[S_AVG]) - fees
    ret = pnl / (abs(units) * st[S_AVG])
    _book_nb(pnl, ret, p, st)
    k = int(st[S_REC])
    if k < rec.shape[0]:
        row = rec[k]
        row[R_ENTRY_BAR] = st[S_ENTRY_BAR]
        row[R_EXIT_BAR] = bar
        row[R_SIDE] = side
        row[R_UNITS] = abs(units)
        row[R_ENTRY_PRICE] = st[S_AVG]
        row[R_EXIT_PRICE] = price
        row[R_FEES] = fees
        row[R_PNL] = pnl
        row[R_RETURN] = ret
        row[R_REASON] = reason
        row[R_ADDS] = st[S_ADDS]
    st[S_REC] = k + 1
    st[S_UNITS] = 0.0


@njit(cache=True, nogil=True)
def _book_nb(pnl: float, ret: float, p: np.ndarray, st: np.ndarray) -> None:
    """Trade accumulators (stats, Kelly) and the martingale multiplier."""
    st[S_TRADES] += 1.0
    st[S_SUM_TRADE_RET] += ret
    if pnl > 0.0:
        st[S_WINS] += 1.0
        st[S_GROSS_PROFIT] += pnl
        st[S_SUM_WIN_RET] += ret
        st[S_MULT] = 1.0
    else:
        st[S_GROSS_LOSS] -= pnl
        st[S_SUM_LOSS_RET] -= ret
        if p[P_MODE] == MODE_MARTINGALE:
            st[S_MULT] = min(st[S_MULT] * p[P_MART_MULT], p[P_MART_CAP])
