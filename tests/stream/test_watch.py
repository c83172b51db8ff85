"""Live streams with real ccxt.pro against the loopback emulator (one market minute per real
second): what reaches the SQLite sink is every closed bar, equal to the emulator's truth."""

from __future__ import annotations

import sqlite3

import pytest

from barlake.errors import ConfigError
from barlake.stream.runner import run_stream
from stream_support import (
    MINUTE,
    Updates,
    assert_every_bar_once,
    emulator,
    settings,
    stored,
)


def test_forming_candles_are_never_stored_and_a_final_kline_is_stored_at_once(tmp_path):
    out, updates = tmp_path / "bars.sqlite", Updates()
    with emulator() as emu:
        metrics = run_stream(settings(emu, out, duration_s=4.5), on_update=updates)
        forming_at_stop = emu.clock() // MINUTE * MINUTE
        sent = dict(emu.ws_sent_closed)
        bars = stored(out)
        assert_every_bar_once(emu, bars)
    rows = bars["BTC/USDT"]
    assert len(rows) >= 3
    assert rows[-1][0] < forming_at_stop  # the candle still forming at the stop is not stored
    live = updates.of("bar")
    assert metrics.bars == len(live) == len(rows) and metrics.backfilled_bars == 0
    for at, update in live:  # each bar is committed right after its x:true kline, never before
        assert update.bar is not None
        delay = at - sent[("BTCUSDT", "1m", update.bar.timestamp_ms)]
        assert -0.02 < delay < 0.5  # (the emulator stamps a send once it has returned)
    final = {row[0]: row for row in rows}
    provisional = [u.bar for _, u in updates.of("forming") if u.bar and u.bar.timestamp_ms in final]
    # forming updates of stored minutes differ from the final bar: storing one would show
    assert any(tuple(b[2:]) != final[b.timestamp_ms] for b in provisional)
    assert 0 < metrics.max_latency_ms < 500


def test_symbols_share_one_socket_and_each_gets_its_closed_bars(tmp_path):
    out = tmp_path / "bars.sqlite"
    with emulator() as emu:
        config = settings(emu, out, symbols=("BTC/USDT", "ETH/USDT"), duration_s=3.5)
        metrics = run_stream(config)
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        assert emu.binance_ws.counters.accepted == 1
    assert sorted(bars) == ["BTC/USDT", "ETH/USDT"]
    assert all(len(rows) >= 2 for rows in bars.values())
    assert metrics.reconnects == 0 and metrics.messages > 0


def test_hyperliquid_bar_is_final_when_the_next_one_starts(tmp_path):
    out, updates = tmp_path / "bars.sqlite", Updates()
    with emulator() as emu:
        config = settings(
            emu, out, "hyperliquid", symbols=("BTC/USDC:USDC", "ETH/USDC:USDC"), duration_s=3.5
        )
        metrics = run_stream(config, on_update=updates)
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        sent = dict(emu.hyperliquid_ws.sent_closed)
    assert sorted(bars) == ["BTC/USDC:USDC", "ETH/USDC:USDC"]
    assert metrics.backfilled_bars == 0
    for at, update in updates.of("bar"):
        assert update.bar is not None
        coin = update.bar.symbol.split("/")[0]
        assert -0.02 < at - sent[(coin, "1m", update.bar.timestamp_ms)] < 0.5


def test_bars_built_from_trades_equal_the_klines(tmp_path):
    out, updates = tmp_path / "bars.sqlite", Updates()
    with emulator() as emu:
        config = settings(
            emu, out, symbols=("BTC/USDT", "ETH/USDT"), kind="trades", trades_to_ohlcv=True,
            duration_s=5.5,
        )  # fmt: skip
        metrics = run_stream(config, on_update=updates)
        bars = stored(out)
        assert_every_bar_once(emu, bars)
    assert sorted(bars) == ["BTC/USDT", "ETH/USDT"]
    # the bucket the subscription started in was partial: it came from REST, the rest live
    assert metrics.backfilled_bars == 2
    assert len(updates.of("bar")) >= 6


def test_trades_stream_stores_the_tape_without_gaps_or_repeats(tmp_path):
    out = tmp_path / "trades.sqlite"
    with emulator() as emu:
        metrics = run_stream(settings(emu, out, kind="trades", duration_s=3))
        with sqlite3.connect(out) as db:
            rows = db.execute(
                "SELECT timestamp_ms, price, amount, side, id FROM trades ORDER BY timestamp_ms, id"
            ).fetchall()
        tape = emu.trades("BTCUSDT", rows[0][0], rows[-1][0] + 1).to_pylist()
    expected = [(t["timestamp_ms"], t["price"], t["amount"], t["side"], str(t["id"])) for t in tape]
    first = next(i for i, t in enumerate(expected) if t[4] == rows[0][4])
    assert rows == expected[first:]
    assert metrics.trades == len(rows) > 50


@pytest.mark.parametrize("kind", ["ticker", "orderbook"])
def test_snapshots_come_every_interval_for_each_symbol(tmp_path, kind):
    out = tmp_path / "snap.sqlite"
    with emulator(speed=1) as emu:
        config = settings(
            emu, out, symbols=("BTC/USDT", "ETH/USDT"), kind=kind, depth=3,
            snapshot_interval_s=0.25, duration_s=2.5,
        )  # fmt: skip
        metrics = run_stream(config)
    with sqlite3.connect(out) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute(f"SELECT * FROM {kind} ORDER BY timestamp_ms")]
    per_symbol = {s: [r for r in rows if r["symbol"] == s] for s in ("BTC/USDT", "ETH/USDT")}
    assert all(5 <= len(v) <= 11 for v in per_symbol.values()), {
        k: len(v) for k, v in per_symbol.items()
    }
    assert metrics.snapshots == len(rows)
    if kind == "ticker":
        assert all(r["bid"] < r["ask"] and r["last"] > 0 for r in rows)
    else:
        assert all(
            r["bid_px_2"] < r["bid_px_1"] < r["bid_px_0"] < r["ask_px_0"] < r["ask_px_1"]
            for r in rows
        )
        assert "bid_px_3" not in rows[0]


def test_unknown_symbol_fails_before_the_output_is_created(tmp_path):
    out = tmp_path / "bars.sqlite"
    with emulator() as emu, pytest.raises(ConfigError, match="no spot market 'NOPE/USDT'"):
        run_stream(settings(emu, out, symbols=("NOPE/USDT",), duration_s=1))
    assert not out.exists()


def test_timeframe_the_venue_does_not_stream_is_refused(tmp_path):
    with emulator() as emu, pytest.raises(ConfigError, match="no timeframe '7m'"):
        run_stream(settings(emu, tmp_path / "b.sqlite", timeframe="7m", duration_s=1))
