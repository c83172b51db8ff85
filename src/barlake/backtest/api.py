"""`from_signals`: bars + boolean signals → trades, equity and stats, through the numba engine.

The pandas layer only unwraps inputs (zero-copy float64 views of the columns; the index is not
touched, so a tz-aware UTC index costs nothing) and wraps outputs on the bars' own index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from barlake.backtest import layout as L
from barlake.backtest.engine_nb import simulate_nb
from barlake.backtest.metrics import bar_ms, compute_stats, span_ms
from barlake.backtest.result import Result, trades_frame
from barlake.backtest.settings import Settings
from barlake.bars.frame import ohlcv_arrays
from barlake.bars.schema import PRICE_COLUMNS
from barlake.errors import ConfigError, DataError
from barlake.indicators import api as ta
from barlake.timeframes import parse_timeframe

_NO_BOOL = np.zeros(0, dtype=np.bool_)
_NO_FLOAT = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class Prices:
    """OHLC as contiguous float64 arrays plus what the stats need from the index."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    index: pd.Index
    step_ms: int
    span_ms: int

    @classmethod
    def of(cls, bars: pd.DataFrame, timeframe: str | None = None) -> Prices:
        arrays = ohlcv_arrays(bars, PRICE_COLUMNS, required=PRICE_COLUMNS)
        close = arrays["close"]
        if len(close) and np.isnan(close).any():
            raise DataError("bars hold NaN closes: drop or fill them before a backtest")
        step = bar_ms(bars.index, parse_timeframe(timeframe) if timeframe else None)
        o, h, low = arrays["open"], arrays["high"], arrays["low"]
        return cls(o, h, low, close, bars.index, step, span_ms(bars.index, step))


def as_signal(values: Any, n: int, name: str, index: pd.Index | None = None) -> np.ndarray:
    """A boolean array of length n (NaN counts as False); None gives an empty array."""
    if values is None:
        return _NO_BOOL
    if isinstance(values, pd.Series) and index is not None and values.index is not index:
        if len(values) != n or not values.index.equals(index):
            raise ConfigError(f"{name} must be on the bars' index")
    array = np.asarray(values)
    if array.shape != (n,):
        raise ConfigError(f"{name} must have one value per bar ({n}), got shape {array.shape}")
    if array.dtype == np.bool_:
        return np.ascontiguousarray(array)
    if array.dtype.kind == "f":
        return np.nan_to_num(array, nan=0.0) != 0.0
    return array.astype(np.bool_)


def signal_arrays(index: pd.Index, *signals: Any) -> list[np.ndarray]:
    """entries, exits, short_entries, short_exits → boolean arrays (empty when None)."""
    names = ("entries", "exits", "short_entries", "short_exits")
    return [as_signal(v, len(index), name, index) for v, name in zip(signals, names, strict=True)]


def route(direction: str, entries, exits, short_entries, short_exits) -> tuple[np.ndarray, ...]:
    """(long entries, long exits, short entries, short exits) for the kernel.

    `both` without explicit short signals reverses on the opposite signal, as vectorbt does:
    `exits` open shorts and `entries` cover them."""
    if direction == "long":
        if short_entries.size or short_exits.size:
            raise ConfigError("short_entries/short_exits need direction='both' (or 'short')")
        return entries, exits, _NO_BOOL, _NO_BOOL
    if direction == "short":
        se = short_entries if short_entries.size else entries
        sx = short_exits if short_exits.size else exits
        return _NO_BOOL, _NO_BOOL, se, sx
    se = short_entries if short_entries.size else exits
    sx = short_exits if short_exits.size else entries
    return entries, exits, se, sx


def simulate(
    prices: Prices,
    signals: tuple[np.ndarray, ...],
    settings: Settings,
    *,
    record: bool = True,
    atr: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the kernel; returns (state, equity, trade records). Without `record`, equity and
    records are empty and only the accumulators in `state` are filled (what a sweep needs)."""
    if atr is None:
        atr = risk_atr(prices, settings)
    n = prices.close.shape[0]
    le, lx, se, sx = signals
    equity = np.empty(n) if record else _NO_FLOAT
    capacity = int(np.count_nonzero(le) + np.count_nonzero(se)) + 1 if record else 0
    rec = np.empty((capacity, L.N_REC))
    state = np.empty(L.N_STATE)
    p = settings.params()
    simulate_nb(
        prices.open,
        prices.high,
        prices.low,
        prices.close,
        le,
        lx,
        se,
        sx,
        atr,
        p,
        state,
        equity,
        rec,
    )
    return state, equity, rec[: int(state[L.S_REC])]


def risk_atr(prices: Prices, settings: Settings) -> np.ndarray:
    """ATR for risk sizing (empty when not sizing by risk)."""
    if settings.sizing != "risk":
        return _NO_FLOAT
    return ta.atr(prices.high, prices.low, prices.close, settings.atr_n)


def run_signals(
    prices: Prices,
    signals: Sequence[Any],
    settings: Settings,
    *,
    record: bool = True,
    atr: np.ndarray | None = None,
    periods_per_year: float | None = None,
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Signals → routed for `settings.direction` → simulated → stats; returns (stats, equity,
    trade records). `signals` are entries, exits, short entries and short exits (None: none),
    one value per bar of `prices`. Without `record` equity and records come back empty."""
    raw = signal_arrays(prices.index, *signals)
    state, equity, rec = simulate(
        prices, route(settings.direction, *raw), settings, record=record, atr=atr
    )
    stats = compute_stats(
        state, settings.init_cash, prices.step_ms, prices.span_ms, periods_per_year
    )
    return stats, equity, rec


def from_signals(
    bars: pd.DataFrame,
    entries: Any,
    exits: Any = None,
    *,
    direction: str = Settings.direction,
    short_entries: Any = None,
    short_exits: Any = None,
    fill: str = Settings.fill,
    fees_bps: float = Settings.fees_bps,
    slippage_bps: float = Settings.slippage_bps,
    init_cash: float = Settings.init_cash,
    size: float = Settings.size,
    tp_pct: float | None = Settings.tp_pct,
    sl_pct: float | None = Settings.sl_pct,
    intrabar: str = Settings.intrabar,
    timeframe: str | None = None,
    periods_per_year: float | None = None,
    **risk: Any,
) -> Result:
    """Backtest boolean signals on OHLC bars (as `barlake.read` returns them): a signal on bar
    t's close fills at t+1's open (`fill="close"`: at t's close); fees and slippage on every
    fill; `size` a fraction of equity; `tp_pct`/`sl_pct` percent from the fill price.
    `**risk` takes the rest of `Settings` (sizing, mode, kelly, max_drawdown_pct, ...);
    `timeframe`/`periods_per_year` override the annualisation inferred from the index."""
    named = {"direction": direction, "fill": fill, "fees_bps": fees_bps, "size": size}
    named |= {"slippage_bps": slippage_bps, "init_cash": init_cash, "intrabar": intrabar}
    settings = Settings.from_options({**named, "tp_pct": tp_pct, "sl_pct": sl_pct, **risk})
    prices = Prices.of(bars, timeframe)
    signals = (entries, exits, short_entries, short_exits)
    stats, equity, rec = run_signals(prices, signals, settings, periods_per_year=periods_per_year)
    return Result(
        trades=trades_frame(rec, bars.index),
        equity=pd.Series(equity, index=bars.index, name="equity"),
        stats=stats,
        settings=settings,
        bars=bars,
    )
