"""The one place a trial becomes numbers, used by the workers (train), the report (test) and a
manifest replay (test), so a replay reproduces the report's test metrics exactly.

A backtest over a slice computes signals on the bars given (which may start before the first
tradable bar, for indicator warm-up) and trades only from `begin` on, with fresh cash. Train
slices never reach past the train end, so the search cannot see a test bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from barlake.backtest.api import Prices, as_signal, route, simulate
from barlake.backtest.metrics import compute_stats
from barlake.backtest.settings import Settings
from barlake.optimize.windows import Window
from barlake.strategies import get_strategy
from barlake.strategies.frame import Frame

# What a trial keeps of a run's stats (user attrs, CSV columns, manifest metrics).
KEPT_STATS = (
    "total_return_pct",
    "max_drawdown_pct",
    "trades",
    "sharpe",
    "sortino",
    "cagr_pct",
    "calmar",
    "win_rate_pct",
    "profit_factor",
    "exposure_pct",
    "avg_trade_pct",
    "fees_paid",
    "final_equity",
)


@dataclass
class SliceRun:
    """Stats of one slice; `equity` only when asked for (the walk-forward stitching)."""

    stats: dict[str, float]
    equity: np.ndarray | None = None


def backtest_slice(
    bars: pd.DataFrame,
    begin: int,
    strategy: str,
    params: dict[str, Any],
    options: dict[str, Any],
    timeframe: str,
    *,
    record: bool = False,
) -> SliceRun:
    """Signals on all of `bars`, trades and stats from bar `begin` on."""
    chosen = get_strategy(strategy)
    values = chosen.resolve(params)
    settings = Settings.from_options(options)
    signals = chosen.func(Frame(bars), **values)
    n = len(bars)
    raw = [as_signal(s, n, "signal")[begin:] for s in signals]
    prices = Prices.of(bars.iloc[begin:], timeframe)
    state, equity, _ = simulate(prices, route(settings.direction, *raw), settings, record=record)
    stats = compute_stats(state, settings.init_cash, prices.step_ms, prices.span_ms)
    return SliceRun(stats, equity if record else None)


class Evaluator:
    """The run's bars cut into its windows once; train and test backtests by fold."""

    def __init__(self, bars: pd.DataFrame, windows: list[Window], timeframe: str) -> None:
        self.bars = bars
        self.windows = windows
        self.timeframe = timeframe
        self._train = [bars.iloc[w.train_start : w.train_end] for w in windows]
        self._test = [bars.iloc[w.train_start : w.test_end] for w in windows]

    def train(
        self, fold: int, strategy: str, params: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, float]:
        """Stats on the fold's train bars only."""
        return backtest_slice(self._train[fold], 0, strategy, params, options, self.timeframe).stats

    def test(
        self,
        fold: int,
        strategy: str,
        params: dict[str, Any],
        options: dict[str, Any],
        *,
        record: bool = False,
    ) -> SliceRun:
        """Stats on the fold's test bars, indicators warmed up on its train bars."""
        w = self.windows[fold]
        begin = w.test_start - w.train_start
        return backtest_slice(
            self._test[fold], begin, strategy, params, options, self.timeframe, record=record
        )

    def test_slice(self, fold: int) -> pd.DataFrame:
        """The bars a test backtest reads: warm-up (the train part) then the test part."""
        return self._test[fold]


def kept(stats: dict[str, float]) -> dict[str, float | int | None]:
    """The kept stats, JSON-safe: a NaN or infinite value becomes None."""
    out: dict[str, float | int | None] = {}
    for key in KEPT_STATS:
        value = stats[key]
        if key == "trades":
            out[key] = int(value)
        else:
            out[key] = float(value) if math.isfinite(value) else None
    return out
