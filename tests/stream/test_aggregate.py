"""Trades → bars: the live aggregator's emission rule, gaps and reconnects, and the batch
kernel against pandas resample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barlake.errors import ConfigError
from barlake.stream.aggregate import (
    TradeAggregator,
    TradeAggregators,
    bars_from_trades,
    trades_to_bars,
)
from barlake.stream.model import Bar, Trade
from barlake.timeframes import MINUTE_MS, WEEK_MS

T0 = 1_700_000_040_000  # a minute boundary (2023-11-14 22:14 UTC)
GRACE = 1500


def trade(ts: int, price: float, amount: float = 1.0, tid: str | None = None, symbol="BTC/USDT"):
    return Trade(symbol, ts, price, amount, "buy", tid if tid is not None else f"{ts}-{price}")


def feed(agg: TradeAggregator, trades: list[tuple[Trade, int]]) -> list[Bar]:
    out: list[Bar] = []
    for item, now in trades:
        out += agg.add(item, now)
    return out


def test_bar_is_emitted_at_the_first_trade_of_a_later_bucket():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    first = feed(
        agg, [(trade(T0 + 10, 100.0, 2.0), T0 + 20), (trade(T0 + 30_000, 104.0), T0 + 30_010)]
    )
    first += feed(agg, [(trade(T0 + 40_000, 97.0, 0.5), T0 + 40_005)])
    first += feed(agg, [(trade(T0 + 59_999, 101.0), T0 + 59_999)])
    assert first == []
    emitted = agg.add(trade(T0 + MINUTE_MS + 5, 102.0), T0 + MINUTE_MS + 6)
    assert emitted == [Bar("BTC/USDT", "1m", T0, 100.0, 104.0, 97.0, 101.0, 4.5)]
    assert agg.stats.bars == 1 and agg.stats.trades == 5


def test_bar_is_emitted_by_the_clock_once_its_end_plus_grace_has_passed():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    feed(agg, [(trade(T0 + 1_000, 100.0), T0 + 1_000), (trade(T0 + 2_000, 99.0), T0 + 2_000)])
    assert agg.tick(T0 + MINUTE_MS + GRACE - 1) == []
    assert agg.tick(T0 + MINUTE_MS + GRACE) == [
        Bar("BTC/USDT", "1m", T0, 100.0, 100.0, 99.0, 99.0, 2.0)
    ]
    assert agg.tick(T0 + 10 * MINUTE_MS) == []  # emitted once


def test_late_trade_inside_the_grace_is_included_and_ordered_by_its_timestamp():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    feed(agg, [(trade(T0 + 5_000, 100.0), T0 + 5_000), (trade(T0 + 50_000, 103.0), T0 + 50_000)])
    # stamped before the first trade, received after the bucket ended but inside the grace
    late = agg.add(trade(T0 + 1_000, 95.0, 3.0), T0 + MINUTE_MS + GRACE - 10)
    assert late == []
    (bar,) = agg.tick(T0 + MINUTE_MS + GRACE)
    assert (bar.open, bar.low, bar.close, bar.volume) == (95.0, 95.0, 103.0, 5.0)
    assert agg.stats.late_dropped == 0


def test_trade_for_an_emitted_bucket_is_dropped_and_counted():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    feed(agg, [(trade(T0 + 5_000, 100.0), T0 + 5_000)])
    (bar,) = agg.add(trade(T0 + MINUTE_MS + 1, 110.0), T0 + MINUTE_MS + 2)
    # inside the wall-clock grace, but a later bucket already closed this one
    assert agg.add(trade(T0 + 59_000, 1.0, 50.0), T0 + MINUTE_MS + 3) == []
    assert agg.stats.late_dropped == 1
    (second,) = agg.tick(T0 + 2 * MINUTE_MS + GRACE)
    assert (bar.volume, second.volume, second.low) == (1.0, 1.0, 110.0)


def test_trade_arriving_after_its_bucket_closed_by_the_clock_is_late_even_without_a_bar():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    feed(agg, [(trade(T0 + 5_000, 100.0), T0 + 5_000)])
    agg.tick(T0 + 3 * MINUTE_MS)  # closes T0 (a bar) and T0+1m (no trades, no bar)
    assert agg.add(trade(T0 + MINUTE_MS + 30_000, 100.0), T0 + 3 * MINUTE_MS + 1) == []
    assert agg.stats.late_dropped == 1
    # the arrival time closes buckets too: no tick needed before a trade is judged
    assert agg.add(trade(T0 + 2 * MINUTE_MS + 59_000, 100.0), T0 + 4 * MINUTE_MS) == []
    assert agg.stats.late_dropped == 2 and agg.stats.bars == 1


def test_repeated_trade_ids_are_ignored_in_the_open_and_the_last_bar():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    one, two = trade(T0 + 1_000, 100.0, 1.0, "a"), trade(T0 + 2_000, 101.0, 2.0, "b")
    feed(agg, [(one, T0 + 1_000), (two, T0 + 2_000), (one, T0 + 3_000), (two, T0 + 3_000)])
    assert agg.stats.duplicates == 2
    (bar,) = agg.add(trade(T0 + MINUTE_MS, 102.0, 1.0, "c"), T0 + MINUTE_MS)
    assert bar.volume == 3.0
    agg.add(two, T0 + MINUTE_MS + 1)  # a replay of the emitted bucket after a reconnect
    assert (agg.stats.duplicates, agg.stats.late_dropped) == (3, 0)
    # an empty id cannot be told apart from another trade, so it always counts
    agg.add(trade(T0 + MINUTE_MS + 5, 102.0, 1.0, ""), T0 + MINUTE_MS + 5)
    agg.add(trade(T0 + MINUTE_MS + 5, 102.0, 1.0, ""), T0 + MINUTE_MS + 5)
    (last,) = agg.tick(T0 + 2 * MINUTE_MS + GRACE)
    assert last.volume == 3.0


def test_buckets_without_trades_emit_nothing():
    agg = TradeAggregator("ETH/USDT", "1m", grace_ms=GRACE)
    bars = feed(agg, [(trade(T0 + 1, 10.0, symbol="ETH/USDT"), T0 + 1)])
    bars += feed(
        agg, [(trade(T0 + 5 * MINUTE_MS + 7, 11.0, symbol="ETH/USDT"), T0 + 5 * MINUTE_MS + 8)]
    )
    bars += agg.tick(T0 + 7 * MINUTE_MS)
    assert [b.timestamp_ms for b in bars] == [T0, T0 + 5 * MINUTE_MS]


def test_resume_drops_the_partial_bar_and_names_the_range_to_backfill():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE)
    feed(agg, [(trade(T0 + 1_000, 100.0), T0 + 1_000), (trade(T0 + 61_000, 101.0), T0 + 61_000)])
    # the socket dies at T0+1m+20s and comes back at T0+4m+30s
    start, end = agg.resume(T0 + 4 * MINUTE_MS + 30_000)
    assert (start, end) == (T0 + MINUTE_MS, T0 + 5 * MINUTE_MS)
    assert agg.tick(T0 + 10 * MINUTE_MS) == []  # the partial bar is gone for good
    # trades before `end` belong to the backfill; the replayed one is a repeat
    agg.add(trade(T0 + 4 * MINUTE_MS + 40_000, 99.0), T0 + 4 * MINUTE_MS + 40_000)
    agg.add(trade(T0 + 61_000, 101.0), T0 + 4 * MINUTE_MS + 41_000)
    assert (agg.stats.skipped, agg.stats.late_dropped) == (2, 0)


def test_discard_partial_returns_the_open_time_and_reset_after_owns_from_the_next_boundary():
    agg = TradeAggregator("BTC/USDT", "5m", grace_ms=0)
    assert agg.discard_partial() is None
    agg.add(trade(T0 + 1_000, 100.0), T0 + 1_000)
    bucket = T0 - T0 % (5 * MINUTE_MS)
    assert agg.discard_partial() == bucket
    assert agg.reset_after(bucket) == bucket  # a boundary owns itself
    assert agg.reset_after(bucket + 1) == bucket + 5 * MINUTE_MS


def test_start_ms_leaves_the_bucket_in_progress_to_the_backfill():
    agg = TradeAggregator("BTC/USDT", "1m", grace_ms=GRACE, start_ms=T0 + 20_000)
    bars = feed(
        agg, [(trade(T0 + 25_000, 100.0), T0 + 25_000), (trade(T0 + 70_000, 101.0), T0 + 70_000)]
    )
    bars += agg.tick(T0 + 2 * MINUTE_MS + GRACE)
    assert [b.timestamp_ms for b in bars] == [T0 + MINUTE_MS]
    assert agg.stats.skipped == 1


def test_aggregators_route_by_symbol_and_sum_their_counts():
    book = TradeAggregators("1m", grace_ms=0)
    trades = [trade(T0 + i * 1_000, 100.0 + i, symbol=s) for i in range(3) for s in ("A", "B")]
    assert book.add_many(trades, T0 + 3_000) == []
    bars = book.tick(T0 + MINUTE_MS)
    assert sorted((b.symbol, b.close) for b in bars) == [("A", 102.0), ("B", 102.0)]
    assert book.stats().trades == 6 and book.stats().bars == 2


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="timeframe"):
        TradeAggregator("X", "90s")
    with pytest.raises(ConfigError, match="grace"):
        TradeAggregator("X", "1m", grace_ms=-1)


# --- batch kernel ---------------------------------------------------------------------------
def pandas_bars(ts, price, amount, tf_ms: int, origin="epoch") -> dict[str, np.ndarray]:
    frame = pd.DataFrame({"price": price, "amount": amount}, index=pd.to_datetime(ts, unit="ms"))
    rule = pd.Timedelta(milliseconds=tf_ms)
    grouped = frame.resample(rule, closed="left", label="left", origin=origin)
    out = grouped.agg({"price": ["first", "max", "min", "last"], "amount": ["sum", "count"]})
    out = out[out[("amount", "count")] > 0]
    return {
        "timestamp_ms": out.index.as_unit("ms").asi8,
        "open": out[("price", "first")].to_numpy(),
        "high": out[("price", "max")].to_numpy(),
        "low": out[("price", "min")].to_numpy(),
        "close": out[("price", "last")].to_numpy(),
        "volume": out[("amount", "sum")].to_numpy(),
    }


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    for name, values in want.items():
        assert np.array_equal(got[name], values), name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40 * MINUTE_MS),
            st.floats(1.0, 1e6, allow_nan=False),
            st.integers(0, 8_000),
        ),
        min_size=1,
        max_size=300,
    ),
    st.sampled_from([MINUTE_MS, 5 * MINUTE_MS, 7 * MINUTE_MS]),
)
def test_batch_kernel_equals_pandas_resample_with_empty_buckets_dropped(rows, tf_ms):
    rows.sort(key=lambda r: r[0])  # stable: equal stamps keep their order, as pandas does
    ts = np.array([T0 + r[0] for r in rows], np.int64)
    price = np.array([r[1] for r in rows])
    amount = np.array([r[2] for r in rows]) / 8.0  # a 1/8 grid: sums exact in any order
    got = trades_to_bars(ts, price, amount, f"{tf_ms // MINUTE_MS}m")
    assert_same(got, pandas_bars(ts, price, amount, tf_ms))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 20 * MINUTE_MS), st.floats(1.0, 1e4), st.integers(1, 80)),
        min_size=1,
        max_size=200,
    ),
)
def test_live_aggregator_equals_the_batch_kernel_on_in_order_trades(rows):
    rows.sort(key=lambda r: r[0])
    agg = TradeAggregator("X", "1m", grace_ms=GRACE)
    bars = []
    for i, (offset, price, amount) in enumerate(rows):
        bars += agg.add(Trade("X", T0 + offset, price, amount / 8.0, "sell", str(i)), T0 + offset)
    bars += agg.tick(T0 + 30 * MINUTE_MS)
    got = trades_to_bars(
        np.array([T0 + r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        np.array([r[2] / 8.0 for r in rows]),
        "1m",
    )
    assert [tuple(b[2:]) for b in bars] == list(zip(*(got[n].tolist() for n in got), strict=True))


def test_batch_kernel_sorts_unsorted_trades_keeping_equal_stamps_in_order():
    ts = np.array([T0 + 70_000, T0 + 10, T0 + 10, T0 + 5], np.int64)
    price = np.array([4.0, 2.0, 3.0, 1.0])
    got = trades_to_bars(ts, price, np.ones(4), "1m")
    assert got["timestamp_ms"].tolist() == [T0, T0 + MINUTE_MS]
    assert (got["open"].tolist(), got["close"].tolist()) == ([1.0, 4.0], [3.0, 4.0])


def test_weekly_buckets_open_on_monday_like_the_lake():
    monday = 1_699_833_600_000  # 2023-11-13 00:00 UTC, a Monday
    ts = np.array([monday + 1, monday + WEEK_MS - 1, monday + WEEK_MS + 5], np.int64)
    got = trades_to_bars(ts, np.array([1.0, 2.0, 3.0]), np.ones(3), "1w")
    assert got["timestamp_ms"].tolist() == [monday, monday + WEEK_MS]
    assert got["volume"].tolist() == [2.0, 1.0]


def test_bars_from_trades_replays_a_list_per_symbol_without_repeats():
    trades = [
        trade(T0 + 1, 10.0, 1.0, "1", "B"),
        trade(T0 + 2, 20.0, 1.0, "1", "A"),
        trade(T0 + 1, 10.0, 1.0, "1", "B"),  # replayed
        trade(T0 + MINUTE_MS, 11.0, 2.0, "2", "B"),
    ]
    assert bars_from_trades(trades, "1m") == [
        Bar("A", "1m", T0, 20.0, 20.0, 20.0, 20.0, 1.0),
        Bar("B", "1m", T0, 10.0, 10.0, 10.0, 10.0, 1.0),
        Bar("B", "1m", T0 + MINUTE_MS, 11.0, 11.0, 11.0, 11.0, 2.0),
    ]
