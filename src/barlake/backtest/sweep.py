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

from barlake.backtest.api import Prices, from_signals, risk_atr, run_signals
from barlake.backtest.result import Result
from barlake.backtest.settings import Settings
from barlake.errors import ConfigError
from barlake.strategies.frame import Frame
from barlake.strategies.rules import RuleStrategy
from barlake.timeframes import parse_timeframe

if TYPE_CHECKING:
    from barlake.strategies.base import Signals, Strategy


def run_strategy(
    bars: pd.DataFrame,
    strategy: Strategy | RuleStrategy,
    params: Mapping[str, Any] | None = None,
    **options: Any,
) -> Result:
    """One backtest of a strategy with its defaults updated by `params`, or of rules (no
    params; their own direction unless `direction` is given; external series joined as of the
    closes of `timeframe` when given). `options` go to `from_signals` (timeframe, fees_bps,
    tp_pct, mode, ...)."""
    if isinstance(strategy, RuleStrategy):
        if params:
            raise ConfigError(f"rules take no parameters, got {sorted(params)}")
        timeframe = options.get("timeframe")
        signals = strategy.signals(bars, parse_timeframe(timeframe) if timeframe else None)
        options.setdefault("direction", strategy.direction)
    else:
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

    def one(values: dict[str, Any]) -> dict[str, Any]:
        signals: Signals = strategy.func(frame, **values)
        stats, _, _ = run_signals(
            prices, signals, settings, record=False, atr=atr, periods_per_year=periods_per_year
        )
        return {**values, **stats}

    pool_size = max(1, min(workers or os.cpu_count() or 1, len(sets) or 1))
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        rows = list(pool.map(one, sets))
    return pd.DataFrame(rows)
