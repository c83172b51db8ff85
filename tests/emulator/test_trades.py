"""The trade tape: consistent with the 1m truth to the last lot, served over REST as ccxt
expects it, and following the (accelerated) market clock."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from barlake.emulator import Accelerated, Emulator, clients, utc_ms
from barlake.emulator.trades import ID_MONTH
from barlake.timeframes import HOUR_MS, MINUTE_MS

NOW = utc_ms("2026-11-20T12:00:30")


@pytest.fixture
def fixed() -> Emulator:
    with Emulator(clock=lambda: NOW) as emu:
        yield emu


def bars_from_trades(trades: pd.DataFrame, start: int, end: int, lots: int) -> pd.DataFrame:
    """1m bars aggregated from trades; minutes without trades flat at the last close, volume 0.
    Volumes are float sums of decimal amounts: rounded to the lot size they are exact."""
    minute = trades["timestamp_ms"] // MINUTE_MS * MINUTE_MS
    bars = trades.groupby(minute).agg(
        open=("price", "first"), high=("price", "max"), low=("price", "min"),
        close=("price", "last"), volume=("amount", "sum"),
    )  # fmt: skip
    bars = bars.reindex(range(start, end, MINUTE_MS))
    close = bars["close"].ffill()
    for column in ("open", "high", "low"):
        bars[column] = bars[column].fillna(close)
    bars["close"], bars["volume"] = close, bars["volume"].fillna(0.0).round(lots)
    return bars.rename_axis("timestamp_ms").reset_index()


@pytest.mark.parametrize(
    ("symbol", "day", "lots"), [("BTCUSDT", "2026-11-19", 5), ("LUNAUSDT", "2025-02-10", 2)]
)
def test_bars_aggregated_from_the_tape_equal_the_truth_exactly(fixed, symbol, day, lots):
    start = utc_ms(day) + 60 * MINUTE_MS  # the first minute of the window traded
    end = start + 6 * HOUR_MS
    truth = fixed.bars(symbol, start, end).to_pandas()
    trades = fixed.trades(symbol, start, end).to_pandas()
    built = bars_from_trades(trades, start, end, lots)
    assert (truth["volume"] == 0).any()  # quiet minutes exist and are filled flat
    pd.testing.assert_frame_equal(built, truth, check_exact=True)


def test_every_minute_trades_its_open_high_low_close_in_increasing_time(fixed):
    tape = fixed.tape
    market = fixed.books.spot.get("ETHUSDT")
    start = utc_ms("2026-11-19T08:00")
    bars = market.minutes(start, start + 3 * HOUR_MS)
    trades = tape.between("ETHUSDT", start, start + 3 * HOUR_MS)
    assert np.all(np.diff(trades.times) > 0) and np.all(np.diff(trades.ids) == 1)
    minute = trades.times // MINUTE_MS * MINUTE_MS
    for i in np.flatnonzero(bars.volume > 0):
        mine = trades.take(minute == bars.open_ms[i])
        assert mine.prices[0] == bars.open[i] and mine.prices[-1] == bars.close[i]
        assert mine.prices.max() == bars.high[i] and mine.prices.min() == bars.low[i]
        assert mine.qtys.sum() == bars.volume[i] and mine.qtys.min() >= 1
        assert len(mine) == min(max(bars.trades[i], 4), 60) or len(mine) < 4


def test_ids_run_on_within_a_month_and_jump_at_the_next(fixed):
    end = utc_ms("2026-11-01")
    trades = fixed.tape.between("SOLUSDT", end - 2 * MINUTE_MS, end + 2 * MINUTE_MS)
    before, after = trades.ids[trades.times < end], trades.ids[trades.times >= end]
    assert np.all(np.diff(before) == 1) and np.all(np.diff(after) == 1)
    assert after[0] == (before[-1] // ID_MONTH + 1) * ID_MONTH + 1


def test_the_trade_cap_limits_trades_per_minute_and_keeps_the_bars():
    with Emulator(clock=lambda: NOW, trade_cap=5) as emu:
        start = NOW - NOW % MINUTE_MS - 30 * MINUTE_MS
        trades = emu.trades("BTCUSDT", start, start + 30 * MINUTE_MS).to_pandas()
        per_minute = trades.groupby(trades["timestamp_ms"] // MINUTE_MS).size()
        assert per_minute.max() == 5
        built = bars_from_trades(trades, start, start + 30 * MINUTE_MS, 5)
        truth = emu.bars("BTCUSDT", start, start + 30 * MINUTE_MS).to_pandas()
        pd.testing.assert_frame_equal(built, truth, check_exact=True)
    with pytest.raises(ValueError, match="trade cap"):
        Emulator(trade_cap=0)


def test_ccxt_fetch_trades_reads_the_aggtrades_tape_with_its_one_hour_end(fixed):
    exchange = clients.binance(fixed.base_url)
    since = NOW - 3 * HOUR_MS
    rows = exchange.fetch_trades("BTC/USDT", since=since, limit=1000)
    truth = fixed.trades("BTCUSDT", since, since + HOUR_MS + 1).to_pylist()[:1000]
    assert [(int(r["id"]), r["timestamp"], r["price"], r["amount"], r["side"]) for r in rows] == [
        (t["id"], t["timestamp_ms"], t["price"], t["amount"], t["side"]) for t in truth
    ]
    (entry,) = fixed.binance.journal.entries("/api/v3/aggTrades")
    assert entry.params == {"symbol": "BTCUSDT", "startTime": str(since),
                            "endTime": str(since + HOUR_MS), "limit": "1000"}  # fmt: skip
    assert entry.weight == 4
    latest = exchange.fetch_trades("BTC/USDT", limit=5)  # no since: the newest, oldest first
    assert [int(r["id"]) for r in latest] == [
        t["id"] for t in fixed.trades("BTCUSDT", NOW - HOUR_MS, NOW + 1).to_pylist()[-5:]
    ]
    assert latest[-1]["timestamp"] <= NOW


def test_aggtrades_bounds_are_inclusive_and_from_id_pages_on(fixed, http):
    truth = fixed.trades("BTCUSDT", NOW - 10 * MINUTE_MS, NOW + 1).to_pylist()
    first, last = truth[3], truth[9]
    url = f"{fixed.base_url}/api/v3/aggTrades?symbol=BTCUSDT"
    window = http(f"{url}&startTime={first['timestamp_ms']}&endTime={last['timestamp_ms']}").json()
    assert [row["a"] for row in window] == [t["id"] for t in truth[3:10]]
    assert window[0] == {
        "a": first["id"], "p": f"{first['price']:.8f}", "q": f"{first['amount']:.8f}",
        "f": first["id"], "l": first["id"], "T": first["timestamp_ms"],
        "m": first["side"] == "sell", "M": True,
    }  # fmt: skip
    paged = http(f"{url}&fromId={truth[5]['id']}&limit=3").json()
    assert [row["a"] for row in paged] == [t["id"] for t in truth[5:8]]
    future = http(f"{url}&startTime={NOW - MINUTE_MS}&endTime={NOW + HOUR_MS}").json()
    assert future[-1]["T"] <= NOW  # nothing after the clock
    recent = http(f"{fixed.base_url}/api/v3/trades?symbol=BTCUSDT&limit=2")
    assert [row["id"] for row in recent.json()] == [t["id"] for t in truth[-2:]]
    assert recent.json()[-1]["isBuyerMaker"] == (truth[-1]["side"] == "sell")
    weights = [(e.path, e.weight) for e in fixed.binance.journal.entries()][-1]
    assert weights == ("/api/v3/trades", 25)
    bad = http(f"{fixed.base_url}/api/v3/aggTrades")
    assert (bad.status, bad.json()["code"]) == (400, -1102)
    assert http(f"{fixed.base_url}/api/v3/aggTrades?symbol=NOPE").json()["code"] == -1121


def test_the_accelerated_clock_moves_rest_and_the_tape_at_its_speed(http):
    clock = Accelerated(NOW, speed=600)  # ten market minutes a real second
    with Emulator(clock=clock) as emu:
        server_time = http(f"{emu.base_url}/api/v3/time").json()["serverTime"]
        time.sleep(0.2)
        later = http(f"{emu.base_url}/api/v3/time").json()["serverTime"]
        assert 100_000 <= later - server_time <= 200_000  # ≈ 0.2 s · 600
        rows = http(f"{emu.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2").json()
        assert rows[-1][0] >= later - later % MINUTE_MS  # the forming candle follows the clock
        (closed,) = emu.bars("BTCUSDT", rows[-2][0], rows[-1][0]).to_pylist()
        assert rows[-2][:6] == [
            closed["timestamp_ms"],
            *(f"{closed[k]:.8f}" for k in "open high low close volume".split()),
        ]
        tape = emu.tape.minute("BTCUSDT", rows[-1][0])  # the forming candle is the tape so far
        assert round(float(rows[-1][5]) * 1e5) in {0, *np.cumsum(tape.qtys).tolist()}
        assert float(rows[-1][1]) == tape.prices[0] / 100
    assert clock.real_seconds(60_000) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="speed"):
        Accelerated(NOW, speed=0)
