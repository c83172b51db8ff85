"""Fills, costs and TP/SL on hand-made bars where every price is known in advance."""

from __future__ import annotations

import pytest
from handmade import FLAT, run


def test_signal_on_a_close_fills_at_the_next_open_by_default():
    rows = [
        FLAT,
        (100, 101, 99, 100.5),
        (101, 102, 100, 101.5),
        (102, 103, 101, 102),
        (104, 105, 103, 104),
    ]
    result = run(rows, entry_at=(1,), exit_at=(3,))
    trade = result.trades.iloc[0]
    assert (trade.entry_bar, trade.exit_bar) == (2, 4)
    assert (trade.entry_price, trade.exit_price) == (101.0, 104.0)
    assert trade.entry_time == result.equity.index[2] and trade.exit_reason == "signal"
    assert trade["size"] == pytest.approx(10_000 / 101)


def test_fill_close_is_an_explicit_opt_in_that_fills_at_the_signal_close():
    rows = [
        FLAT,
        (100, 101, 99, 100.5),
        (101, 102, 100, 101.5),
        (102, 103, 101, 102),
        (104, 105, 103, 104),
    ]
    trade = run(rows, entry_at=(1,), exit_at=(3,), fill="close").trades.iloc[0]
    assert (trade.entry_bar, trade.exit_bar, trade.entry_price, trade.exit_price) == (
        1,
        3,
        100.5,
        102.0,
    )


def test_fees_and_slippage_hit_both_fills_and_show_per_trade():
    rows = [FLAT, FLAT, (100, 101, 99, 100), (110, 111, 109, 110), FLAT]
    result = run(rows, entry_at=(1,), exit_at=(2,), fees_bps=10.0, slippage_bps=20.0)
    trade = result.trades.iloc[0]
    entry, exit_ = 100 * 1.002, 110 * 0.998  # buys fill higher, sells lower
    units = 10_000 / (entry * 1.001)  # size=1.0 spends all equity including the fee
    fees = units * entry * 0.001 + units * exit_ * 0.001
    assert trade.entry_price == pytest.approx(entry) and trade.exit_price == pytest.approx(exit_)
    assert trade["size"] == pytest.approx(units)
    assert trade.fees == pytest.approx(fees)
    assert trade.pnl == pytest.approx(units * (exit_ - entry) - fees)
    assert trade.return_pct == pytest.approx(trade.pnl / (units * entry) * 100)
    assert result.equity.iloc[-1] == pytest.approx(10_000 + trade.pnl)
    assert result.stats["fees_paid"] == pytest.approx(fees)


def test_a_position_open_at_the_end_closes_at_the_last_close_as_end():
    rows = [FLAT, FLAT, (100, 101, 99, 100), (100, 108, 99, 107)]
    result = run(rows, entry_at=(1,), fees_bps=5.0)
    trade = result.trades.iloc[0]
    assert (trade.exit_bar, trade.exit_price, trade.exit_reason) == (3, 107.0, "end")
    assert result.equity.iloc[-1] == pytest.approx(10_000 + trade.pnl)


ENTRY = [FLAT, FLAT, (100, 101, 99.5, 100)]  # long from bar 2's open at 100


@pytest.mark.parametrize(
    ("bar", "reason", "price"),
    [
        ((101, 106, 100, 104), "tp", 105.0),  # TP inside the bar: at the level
        ((101, 102, 94, 96), "sl", 95.0),  # SL inside the bar: at the level
        ((90, 92, 88, 91), "sl", 90.0),  # opens below the SL: at the open (gap)
        ((110, 112, 108, 111), "tp", 110.0),  # opens above the TP: at the open (gap)
    ],
)
def test_tp_and_sl_fill_at_the_level_or_at_a_gapped_open(bar, reason, price):
    trade = run([*ENTRY, bar, FLAT], tp_pct=5.0, sl_pct=5.0).trades.iloc[0]
    assert (trade.exit_bar, trade.exit_reason, trade.exit_price) == (3, reason, price)


@pytest.mark.parametrize(
    ("rule", "bar", "reason"),
    [
        ("sl_first", (100, 106, 94, 105), "sl"),
        ("ohlc_path", (100, 106, 94, 105), "sl"),  # up bar: O→L→H→C, the low came first
        ("ohlc_path", (100, 106, 94, 96), "tp"),  # down bar: O→H→L→C, the high came first
        ("nearest_extreme", (100, 105.5, 94, 100), "tp"),  # high 5.5 away, low 6 away
        ("nearest_extreme", (100, 106, 94.5, 100), "sl"),
        ("nearest_extreme", (100, 106, 94, 100), "sl"),  # a tie assumes the worst
    ],
)
def test_tp_and_sl_in_one_bar_are_settled_by_the_intrabar_rule(rule, bar, reason):
    trade = run([*ENTRY, bar, FLAT], tp_pct=5.0, sl_pct=5.0, intrabar=rule).trades.iloc[0]
    assert trade.exit_reason == reason
    assert trade.exit_price == (95.0 if reason == "sl" else 105.0)


def test_default_intrabar_rule_is_sl_first():
    trade = run([*ENTRY, (100, 106, 94, 105), FLAT], tp_pct=5.0, sl_pct=5.0).trades.iloc[0]
    assert trade.exit_reason == "sl"


def test_stops_watch_the_fill_bar_after_an_open_fill_but_not_before_a_close_fill():
    at_open = run([FLAT, FLAT, (100, 101, 94, 100), FLAT], sl_pct=5.0).trades.iloc[0]
    assert (at_open.entry_bar, at_open.exit_bar, at_open.exit_reason) == (2, 2, "sl")
    rows = [FLAT, (100, 100.5, 94, 100), FLAT, (100, 101, 94, 100), FLAT]
    at_close = run(rows, sl_pct=5.0, fill="close").trades.iloc[0]  # bar 1's low came before
    assert (at_close.entry_bar, at_close.exit_bar, at_close.exit_reason) == (1, 3, "sl")


def test_short_positions_profit_from_falls_and_stop_above():
    rows = [FLAT, FLAT, (100, 101, 99, 100), (99, 100, 94, 95), FLAT]
    result = run(rows, entry_at=(1,), direction="short", tp_pct=5.0, sl_pct=5.0)
    trade = result.trades.iloc[0]
    assert (trade.side, trade.exit_reason, trade.exit_price) == ("short", "tp", 95.0)
    assert trade.pnl == pytest.approx(trade["size"] * 5.0)
    stopped = run([*rows[:3], (104, 106, 103, 105), FLAT], direction="short", sl_pct=5.0).trades
    assert (stopped.exit_reason.iloc[0], stopped.exit_price.iloc[0]) == ("sl", 105.0)


def test_both_directions_reverse_on_the_opposite_signal():
    rows = [FLAT, FLAT, (100, 101, 99, 100), (100, 101, 99, 100), (98, 99, 97, 98), FLAT]
    result = run(rows, entry_at=(1,), exit_at=(3,), direction="both")
    trades = result.trades
    assert list(trades.side) == ["long", "short"]
    assert trades.exit_bar.iloc[0] == trades.entry_bar.iloc[1] == 4
    assert list(trades.exit_reason) == ["signal", "end"]


def test_an_exit_on_the_entry_bar_wins_and_repeated_entries_do_not_pyramid():
    rows = [FLAT] * 6
    assert run(rows, entry_at=(1,), exit_at=(1,)).trades.empty
    trades = run(rows, entry_at=(1, 2, 3), exit_at=(4,)).trades
    assert len(trades) == 1 and (trades.entry_bar.iloc[0], trades.exit_bar.iloc[0]) == (2, 5)
