"""Adapters: the other backtesters run on our bars (each test runs the real library)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from barlake.backtest import from_signals, to_backtesting_py, to_backtrader, to_vectorbt
from barlake.errors import ConfigError
from barlake.strategies import get_strategy


def test_backtrader_feed_replays_every_bar_in_utc(walk_bars):
    bt = pytest.importorskip("backtrader")
    bars = walk_bars.iloc[:300]
    seen: list[tuple[object, float]] = []

    class Record(bt.Strategy):
        def next(self):
            seen.append((self.data.datetime.datetime(0), self.data.close[0]))

    cerebro = bt.Cerebro()
    cerebro.adddata(to_backtrader(bars, name="walk"))
    cerebro.addstrategy(Record)
    cerebro.run()
    assert len(seen) == len(bars)
    assert seen[0] == (bars.index[0].tz_localize(None).to_pydatetime(), bars["close"].iloc[0])
    assert seen[-1][1] == bars["close"].iloc[-1]


def test_backtesting_py_frame_runs_a_backtest_with_capitalised_columns(walk_bars):
    backtesting = pytest.importorskip("backtesting")
    data = to_backtesting_py(walk_bars)
    assert list(data.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert data.index.tz is None and data.index[0] == walk_bars.index[0].tz_localize(None)

    class Hold(backtesting.Strategy):
        def init(self):
            pass

        def next(self):
            if not self.position:
                self.buy(size=0.5)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = backtesting.Backtest(data, Hold, cash=10_000, finalize_trades=True).run()
    assert stats["# Trades"] == 1


def test_vectorbt_frame_feeds_its_portfolio_and_ohlcv_accessor(walk_bars):
    vbt = pytest.importorskip("vectorbt")
    data = to_vectorbt(walk_bars)
    assert data.index.tz is None
    assert data.vbt.ohlcv.close.equals(data["Close"])
    signals = get_strategy("ma_cross").signals(walk_bars)
    pf = vbt.Portfolio.from_signals(
        data["Close"], signals.entries, signals.exits, fees=0.00045, init_cash=10_000, freq="1h"
    )
    ours = from_signals(walk_bars, signals.entries, signals.exits, fill="close")
    assert pf.trades.count() == ours.stats["trades"]
    np.testing.assert_allclose(pf.value().to_numpy()[:-1], ours.equity.to_numpy()[:-1], rtol=1e-9)


def test_adapters_refuse_frames_without_prices():
    with pytest.raises(ConfigError):
        to_vectorbt(pd.DataFrame({"close": [1.0]}))
