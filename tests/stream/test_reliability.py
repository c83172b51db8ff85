"""Streams under faults (real ccxt.pro, loopback emulator, one market minute per real second):
dropped sockets, a silent socket, refused handshakes, shutdown notices. Whatever happens, the
SQLite sink ends with every closed 1m bar exactly once, equal to the emulator's truth."""

from __future__ import annotations

import threading

import pytest

from barlake.stream.runner import run_stream
from stream_support import MINUTE, Updates, assert_every_bar_once, emulator, settings, stored

pytestmark = pytest.mark.slow
SYMBOLS = ("BTC/USDT", "ETH/USDT")


def covered(rows: list[tuple], start_ms: int, stop_ms: int) -> bool:
    """Bars run from the first close after the start to (nearly) the stop."""
    return rows[0][0] <= start_ms + MINUTE and rows[-1][0] >= stop_ms - 3 * MINUTE


def test_dropped_every_few_seconds_the_sink_holds_every_closed_bar_once(tmp_path):
    out, updates = tmp_path / "bars.sqlite", Updates()
    with emulator() as emu:
        emu.binance_ws.knobs.drop_every_s = 1.3  # ~78 market seconds: drops land on closes too
        start = emu.clock()
        metrics = run_stream(settings(emu, out, symbols=SYMBOLS, duration_s=15), on_update=updates)
        stop = emu.clock()
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        assert emu.binance_ws.counters.closes["drop"] >= 8
    assert all(covered(rows, start, stop) for rows in bars.values())
    assert metrics.reconnects >= 8
    assert metrics.bars == sum(len(rows) for rows in bars.values())  # none handed over twice
    assert metrics.backfilled_bars >= 2 and len(updates.of("bar")) >= 10
    assert not metrics.errors


def test_bars_from_trades_survive_drops_with_partial_buckets_taken_from_rest(tmp_path):
    out, updates = tmp_path / "bars.sqlite", Updates()
    with emulator() as emu:
        emu.binance_ws.knobs.drop_every_s = 2.5
        start = emu.clock()
        config = settings(
            emu, out, symbols=SYMBOLS, kind="trades", trades_to_ohlcv=True, duration_s=15
        )
        metrics = run_stream(config, on_update=updates)
        stop = emu.clock()
        bars = stored(out)
        assert_every_bar_once(emu, bars)
    assert all(covered(rows, start, stop) for rows in bars.values())
    assert metrics.reconnects >= 4
    assert metrics.bars == sum(len(rows) for rows in bars.values())
    assert metrics.backfilled_bars >= 8 and len(updates.of("bar")) >= 6


def test_silent_socket_is_detected_and_replaced(tmp_path):
    out = tmp_path / "bars.sqlite"
    with emulator() as emu:
        emu.binance_ws.knobs.stall_after_s = 2.0  # open, answering nothing, not even pings
        config = settings(emu, out, duration_s=9, options={"stall_s": 0.6})
        metrics = run_stream(config)
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        assert emu.binance_ws.counters.accepted >= 3
    assert metrics.reconnects >= 2 and metrics.backfilled_bars >= 1
    assert len(bars["BTC/USDT"]) >= 7


def test_refused_handshakes_are_retried_until_one_is_accepted(tmp_path):
    out = tmp_path / "bars.sqlite"
    with emulator() as emu:
        emu.binance_ws.refuse(3)

        def refuse_and_drop() -> None:
            emu.binance_ws.refuse(2, retry_after_s=1)
            emu.binance_ws.drop_all()

        later = threading.Timer(5.0, refuse_and_drop)
        later.start()
        start = emu.clock()
        metrics = run_stream(settings(emu, out, symbols=SYMBOLS, duration_s=11))
        later.join()
        stop = emu.clock()
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        assert emu.binance_ws.counters.refused == 5
    # the refusals at the start cost a few market minutes; after that nothing is missing
    for rows in bars.values():
        assert rows[0][0] < start + 6 * MINUTE and rows[-1][0] >= stop - 3 * MINUTE
    assert metrics.reconnects >= 6 and metrics.backfilled_bars >= 2 and not metrics.errors


@pytest.mark.parametrize("knob", ["shutdown_every_s", "lifetime_s"])
def test_server_closing_the_socket_is_recovered(tmp_path, knob):
    """`serverShutdown` notices and the 24 h lifetime (compressed to 2.5 s) are reconnects."""
    out = tmp_path / "bars.sqlite"
    with emulator() as emu:
        setattr(emu.binance_ws.knobs, knob, 2.5)
        start = emu.clock()
        metrics = run_stream(settings(emu, out, symbols=SYMBOLS, duration_s=9))
        stop = emu.clock()
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        closes = emu.binance_ws.counters.closes
        assert closes["shutdown" if knob == "shutdown_every_s" else "lifetime"] >= 3
    assert all(covered(rows, start, stop) for rows in bars.values())
    assert metrics.reconnects >= 3 and not metrics.errors


def test_hyperliquid_drops_are_backfilled_from_candle_snapshots(tmp_path):
    out = tmp_path / "bars.sqlite"
    with emulator() as emu:
        emu.hyperliquid_ws.knobs.drop_every_s = 1.1
        start = emu.clock()
        config = settings(
            emu, out, "hyperliquid", symbols=("BTC/USDC:USDC", "ETH/USDC:USDC"), duration_s=12
        )
        metrics = run_stream(config)
        stop = emu.clock()
        bars = stored(out)
        assert_every_bar_once(emu, bars)
        drops = emu.hyperliquid_ws.counters.closes["drop"]
    assert all(covered(rows, start, stop) for rows in bars.values())
    # two symbols read the one socket in two tasks: each drop is one reconnect, not two
    assert drops - 1 <= metrics.reconnects <= drops and drops >= 8
    assert metrics.backfilled_bars >= 2
    assert metrics.bars == sum(len(rows) for rows in bars.values())
