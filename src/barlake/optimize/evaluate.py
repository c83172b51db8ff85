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

from barlake.backtest.api import Prices, run_signals
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


class BarSlice:
    """Bars whose signals are computed on all of them and traded from bar `begin` on; the
    prices of the traded part are read once, for every trial on the slice."""

    def __init__(self, bars: pd.DataFrame, begin: int, timeframe: str) -> None:
        self.bars = bars
        self.begin = begin
        self.prices = Prices.of(bars.iloc[begin:], timeframe)

    def run(
        self,
        strategy: str,
        params: dict[str, Any],
        options: dict[str, Any],
        *,
        record: bool = False,
    ) -> SliceRun:
        chosen = get_strategy(strategy)
        values = chosen.resolve(params)
        settings = Settings.from_options(options)
        signals = chosen.func(Frame(self.bars), **values)
        traded = [None if s is None else s[self.begin :] for s in signals]
        stats, equity, _ = run_signals(self.prices, traded, settings, record=record)
        return SliceRun(stats, equity if record else None)


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
    return BarSlice(bars, begin, timeframe).run(strategy, params, options, record=record)


class Evaluator:
    """The run's bars cut into its windows once; train and test backtests by fold."""

    def __init__(self, bars: pd.DataFrame, windows: list[Window], timeframe: str) -> None:
        self._train = [
            BarSlice(bars.iloc[w.train_start : w.train_end], 0, timeframe) for w in windows
        ]
        self._test = [
            BarSlice(bars.iloc[w.train_start : w.test_end], w.test_start - w.train_start, timeframe)
            for w in windows
        ]

    def train(
        self, fold: int, strategy: str, params: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, float]:
        """Stats on the fold's train bars only."""
        return self._train[fold].run(strategy, params, options).stats

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
        return self._test[fold].run(strategy, params, options, record=record)


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
