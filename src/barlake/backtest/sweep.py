"""Run a strategy once (`run_strategy`) or over many parameter sets (`sweep`).

A sweep keeps one copy of the bars and a memo of indicators (each SMA window is computed
once), and runs the engine without recording: equity, drawdown and the return sums live in the
kernel's state, so memory does not grow with the number of parameter sets. The kernels release
the GIL, so threads run them in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from barlake.backtest.api import Prices, as_signal, from_signals, risk_atr, route, simulate
from barlake.backtest.metrics import compute_stats
from barlake.backtest.result import Result
from barlake.backtest.settings import Settings
from barlake.strategies.frame import Frame

if TYPE_CHECKING:
    from barlake.strategies.base import Signals, Strategy


def run_strategy(
    bars: pd.DataFrame, strategy: Strategy, params: Mapping[str, Any] | None = None, **options: Any
) -> Result:
    """One backtest of a strategy with its defaults updated by `params`; `options` go to
    `from_signals` (fees_bps, tp_pct, mode, ...)."""
    signals = strategy.signals(bars, **dict(params or {}))
    return from_signals(
        bars, *signals[:2], short_entries=signals[2], short_exits=signals[3], **options
    )


def sweep(
    bars: pd.DataFrame,
    strategy: Strategy,
    param_sets: Iterable[Mapping[str, Any]] | None = None,
    *,
    workers: int | None = None,
    timeframe: str | None = None,
    periods_per_year: float | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Backtest every parameter set (default: the strategy's whole grid); one row per set with
    its parameters and the same stats `from_signals` reports, in the order given."""
    settings = Settings.from_options(options)
    prices = Prices.of(bars, timeframe)
    frame = Frame(bars)
    atr = risk_atr(prices, settings)
    sets = [
        strategy.resolve(p) for p in (param_sets if param_sets is not None else strategy.grid())
    ]
    n = len(frame)

    def one(values: dict[str, Any]) -> dict[str, Any]:
        signals: Signals = strategy.func(frame, **values)
        raw = [as_signal(s, n, "signal") for s in signals]
        state, _, _ = simulate(
            prices, route(settings.direction, *raw), settings, record=False, atr=atr
        )
        stats = compute_stats(
            state, settings.init_cash, prices.step_ms, prices.span_ms, periods_per_year
        )
        return {**values, **stats}

    pool_size = max(1, min(workers or os.cpu_count() or 1, len(sets) or 1))
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        rows = list(pool.map(one, sets))
    return pd.DataFrame(rows)
