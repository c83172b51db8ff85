"""Position management (grid, martingale), sizing (notional, ATR risk, Kelly) and the kill-switch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from handmade import FLAT, bars, flags, run

from barlake import indicators as ta
from barlake.backtest import from_signals
from barlake.errors import ConfigError


def closes_only(closes, entry_at, exit_at, **options):
    """Bars whose OHLC all equal the close, traded at the close, no fees."""
    frame = bars(*[(c, c, c, c) for c in closes])
    n = len(frame)
    options.setdefault("fees_bps", 0.0)
    return from_signals(frame, flags(n, *entry_at), flags(n, *exit_at), fill="close", **options)


def test_grid_adds_at_each_step_against_the_last_fill_and_takes_profit_on_the_average():
    rows = [
        FLAT,
        FLAT,
        (100, 100.5, 99.5, 100),  # entry at 100; 98 not reached
        (99, 99.5, 97.5, 98),  # first add at the 98 level
        (96, 96.5, 95.5, 96),  # opens below 98 × 0.98 = 96.04: second add at the open
        (94, 94.5, 93.5, 94),  # no third add: grid_adds=2
        (95, 101, 94.5, 100),  # rallies through the TP on the average price
        FLAT,
    ]
    trade = run(
        rows, size=0.25, mode="grid", grid_step_pct=2.0, grid_adds=2, tp_pct=3.0
    ).trades.iloc[0]
    units = np.array([2500 / 100, 2500 / 98, 2500 / 96])
    average = 7500 / units.sum()
    assert trade.adds == 2 and trade["size"] == pytest.approx(units.sum())
    assert trade.entry_price == pytest.approx(average)
    assert (trade.exit_reason, trade.exit_bar) == ("tp", 6)
    assert trade.exit_price == pytest.approx(average * 1.03)


def test_martingale_multiplies_after_losses_up_to_the_cap_and_resets_after_a_win():
    closes = [100, 100, 99, 99, 98, 98, 97, 97, 99, 99, 98, 98]
    result = closes_only(
        closes,
        (1, 3, 5, 7, 9),
        (2, 4, 6, 8, 10),
        size=0.1,
        mode="martingale",
        martingale_mult=2.0,
        martingale_cap=4.0,
    )
    trades = result.trades
    before = result.equity.shift(1, fill_value=10_000).to_numpy()[trades.entry_bar]
    fractions = trades["size"] * trades.entry_price / before
    assert list(trades.pnl > 0) == [False, False, False, True, False]
    np.testing.assert_allclose(fractions, [0.1, 0.2, 0.4, 0.4, 0.1])


def test_notional_sizing_spends_a_fixed_amount():
    trade = run(
        [FLAT, FLAT, (100, 101, 99, 100), FLAT], sizing="notional", size=1_000.0, fees_bps=10.0
    ).trades.iloc[0]
    assert trade["size"] == pytest.approx(1_000 / (100 * 1.001))


def test_risk_sizing_loses_the_risk_fraction_at_an_atr_stop():
    steady = (100.0, 101.0, 99.0, 100.0)  # true range 2 on every bar: ATR(5) = 2
    rows = [steady] * 13 + [(100, 100.5, 95, 95.5), steady]
    frame = bars(*rows)
    atr = ta.atr(frame["high"].to_numpy(), frame["low"].to_numpy(), frame["close"].to_numpy(), 5)
    assert atr[10] == pytest.approx(2.0)
    result = from_signals(
        frame,
        flags(len(frame), 10),
        None,
        sizing="risk",
        size=0.01,
        atr_n=5,
        atr_mult=2.0,
        fees_bps=0.0,
    )
    trade = result.trades.iloc[0]
    assert trade["size"] == pytest.approx(
        0.01 * 10_000 / (2.0 * 2.0)
    )  # 1% of equity over a 4.0 stop
    assert (trade.exit_reason, trade.exit_bar, trade.exit_price) == ("sl", 13, 96.0)
    assert trade.pnl == pytest.approx(-100.0)


def test_kelly_sizes_from_past_trades_and_stops_on_a_negative_edge():
    # four trades of +2%, -1%, +2%, -1%: W = 0.5, R = 2, f* = 0.25, half Kelly = 0.125
    closes = [100, 100, 102, 102, 100.98, 100.98, 103.0, 103.0, 101.97, 101.97, 105, 105]
    result = closes_only(closes, (1, 3, 5, 7, 9), (2, 4, 6, 8, 10), kelly=0.5, kelly_min_trades=4)
    trades = result.trades
    assert len(trades) == 5
    fraction = trades["size"].iloc[4] * trades.entry_price.iloc[4] / result.equity.iloc[8]
    assert fraction == pytest.approx(0.125, rel=1e-3)
    losing = [100, 100, 99, 99, 98, 98, 97, 97, 98, 98, 97, 97]
    assert (
        len(
            closes_only(
                losing, (1, 3, 5, 7, 9), (2, 4, 6, 8, 10), kelly=0.5, kelly_min_trades=4
            ).trades
        )
        == 4
    )


def test_kill_switch_closes_past_the_max_drawdown_and_opens_nothing_after():
    closes = [100, 100, 95, 85, 85, 90, 90, 95, 95]  # 95 → 85 is a 10.5% drawdown
    frame = bars(*[(c, c, c, c) for c in closes])
    n = len(frame)
    result = from_signals(frame, flags(n, 1, 5), flags(n, 6), max_drawdown_pct=10.0, fees_bps=0.0)
    trades = result.trades
    assert list(trades.exit_reason) == ["kill"]
    assert (trades.exit_bar.iloc[0], trades.exit_price.iloc[0]) == (
        4,
        85.0,
    )  # decided at bar 3's close
    assert result.stats["trades"] == 1


def test_bad_options_are_refused_with_a_config_error():
    frame = bars(FLAT, FLAT, FLAT)
    entries = flags(3, 1)
    for options in (
        {"fill": "vwap"},
        {"size": 1.5},
        {"tp_pct": -1.0},
        {"mode": "pyramid"},
        {"kelly": 0.5, "sizing": "notional", "size": 100.0},
        {"grid_adds": 1.5},
        {"no_such_option": 1},
    ):
        with pytest.raises(ConfigError):
            from_signals(frame, entries, None, **options)
    with pytest.raises(ConfigError):
        from_signals(frame, entries[:2], None)
    with pytest.raises(ConfigError):
        from_signals(frame, pd.Series(entries, index=frame.index[::-1]), None)
