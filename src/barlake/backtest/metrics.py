"""Statistics from the engine's accumulators, so a sweep and a single run report the same numbers.

Annualisation follows the bars: `periods_per_year = 365 days / timeframe` (markets that trade
every day, as vectorbt's default `year_freq`); pass `periods_per_year=252` for daily stock bars.
Sharpe and Sortino use the per-bar returns of the equity marked at each close (the first bar
against the initial cash), risk-free rate 0: Sharpe = mean / std (ddof=1) · √periods, Sortino =
mean / √mean(min(r, 0)²) · √periods. Drawdowns are measured from the running equity peak,
which starts at the initial cash.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from barlake.backtest import layout as L
from barlake.errors import ConfigError
from barlake.timeframes import DAY_MS, INFER_SAMPLE, infer_timeframe_ms

YEAR_MS = 365 * DAY_MS

STAT_KEYS = (
    "total_return_pct",
    "cagr_pct",
    "sharpe",
    "sortino",
    "max_drawdown_pct",
    "calmar",
    "win_rate_pct",
    "profit_factor",
    "trades",
    "exposure_pct",
    "avg_trade_pct",
    "avg_trade_pnl",
    "fees_paid",
    "final_equity",
)


def inferred_bar_ms(index: pd.Index) -> int | None:
    """The bar size of a DatetimeIndex (`timeframes.infer_timeframe_ms` on its first bars);
    None for any other index or fewer than two distinct times."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    return infer_timeframe_ms(index[:INFER_SAMPLE].as_unit("ms").asi8)


def bar_ms(index: pd.Index, timeframe_ms: int | None = None) -> int:
    """The bar size: given, or inferred from a DatetimeIndex."""
    if timeframe_ms is not None:
        return int(timeframe_ms)
    step = inferred_bar_ms(index)
    if step is None:
        raise ConfigError(
            "cannot infer the bar timeframe: pass timeframe='1h' (or a DatetimeIndex of "
            "distinct times)"
        )
    return step


def span_ms(index: pd.Index, step_ms: int) -> int:
    """Calendar time the bars cover, first open to last close (weekend gaps included)."""
    if isinstance(index, pd.DatetimeIndex) and len(index):
        first, last = index[0], index[-1]
        return int((last - first) / pd.Timedelta(milliseconds=1)) + step_ms
    return len(index) * step_ms


def compute_stats(
    st: np.ndarray,
    init_cash: float,
    step_ms: int,
    covered_ms: int,
    periods_per_year: float | None = None,
) -> dict[str, float]:
    """The stats dict of a run from its final state vector (layout.S_*)."""
    bars = st[L.S_BARS]
    trades = st[L.S_TRADES]
    final = st[L.S_PREV_EQ]
    growth = final / init_cash
    cagr = _cagr(growth, covered_ms / YEAR_MS)
    max_dd = st[L.S_MAX_DD]
    per_year = periods_per_year or YEAR_MS / step_ms
    sharpe, sortino = _ratios(st, bars, per_year)
    losses = st[L.S_GROSS_LOSS]
    profit = st[L.S_GROSS_PROFIT]
    stats = {
        "total_return_pct": (growth - 1.0) * 100.0,
        "cagr_pct": cagr * 100.0,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown_pct": max_dd * 100.0,
        "calmar": cagr / max_dd if max_dd > 0 else math.nan,
        "win_rate_pct": st[L.S_WINS] / trades * 100.0 if trades else math.nan,
        "profit_factor": profit / losses if losses > 0 else (math.inf if profit > 0 else math.nan),
        "trades": trades,
        "exposure_pct": st[L.S_EXPOSED] / bars * 100.0 if bars else 0.0,
        "avg_trade_pct": st[L.S_SUM_TRADE_RET] / trades * 100.0 if trades else math.nan,
        "avg_trade_pnl": (profit - losses) / trades if trades else math.nan,
        "fees_paid": st[L.S_FEES],
        "final_equity": final,
    }
    return {k: int(v) if k == "trades" else float(v) for k, v in stats.items()}


def _cagr(growth: float, years: float) -> float:
    if growth <= 0:
        return -1.0
    return growth ** (1.0 / years) - 1.0 if years > 0 else math.nan


def _ratios(st: np.ndarray, bars: float, per_year: float) -> tuple[float, float]:
    if bars < 2:
        return math.nan, math.nan
    mean = st[L.S_SUM_R] / bars
    var = max(st[L.S_SUM_R2] - bars * mean * mean, 0.0) / (bars - 1.0)
    root = math.sqrt(per_year)
    sharpe = mean / math.sqrt(var) * root if var > 0 else math.nan
    downside = math.sqrt(st[L.S_SUM_DOWN2] / bars)
    if downside > 0:
        sortino = mean / downside * root
    else:
        sortino = math.inf if mean > 0 else math.nan
    return sharpe, sortino
