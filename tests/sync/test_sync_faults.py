"""Every emulator fault injected during a sync: the lake still equals the venue's truth, and
the client never earns a 418. Failures that cannot heal give one instrument up, not all."""

from __future__ import annotations

import time

import pytest

from barlake.emulator import Emulator, utc_ms
from sync_support import END, START, assert_equal_bars, run, spot

KLINES = "/api/v3/klines"


@pytest.mark.parametrize(
    ("fault", "archive"),
    [
        ("binance:429=1x2@/api/v3/klines", False),
        ("binance:500x3@/api/v3/klines", False),
        ("binance:502x2@/api/v3/klines", False),
        ("binance:503x2/3@/api/v3/klines", False),
        ("binance:504x2@/api/v3/klines", False),
        ("binance:403x1@/api/v3/klines", False),
        ("binance:slow=2x2@/api/v3/klines", False),
        ("binance:truncate x3@/api/v3/klines".replace(" ", ""), False),
        ("binance:drop x3@/api/v3/klines".replace(" ", ""), False),
        ("binance:truncatex1@/api/v3/exchangeInfo", False),
        ("archive:checksum", True),
        ("archive:truncatex3", True),
        ("archive:500x2", True),
        ("archive:dropx2", True),
    ],
)
def test_a_sync_under_faults_ends_equal_to_the_truth_without_a_ban(emu, lake, fault, archive):
    emu.configure(fault)
    [result] = run(lake, [spot(emu, archive=archive)], timeout_s=1.0)
    assert result.ok, result.error
    assert_equal_bars(lake.read_arrow("binance", "BTCUSDT", "1m"), emu.bars("BTCUSDT", START, END))
    statuses = [e.status for e in emu.binance.journal.entries()]
    assert 418 not in statuses
    fired = [e for e in emu.binance.journal.entries() + emu.archive.journal.entries() if e.fault]
    assert fired or result.via == {"rest": result.bars}, "the fault never fired"


def test_a_wrong_checksum_falls_back_to_rest_for_the_same_bars(emu, lake):
    emu.configure("archive:checksum")
    [result] = run(lake, [spot(emu)])
    assert result.ok and set(result.via) == {"rest"}
    assert emu.archive.journal.entries()  # the archive was tried first


def test_monthly_zips_not_yet_published_fall_back_to_daily_files(lake):
    now = utc_ms("2025-03-02T10:00")  # before the first Monday: February's monthly zip is a 404
    with Emulator(clock=lambda: now) as emu:
        start = utc_ms("2025-02-01")
        items = [spot(emu)]
        [result] = run(lake, items, start, utc_ms("2025-03-01"), clock=emu.clock)
        assert result.ok
        assert result.via.get("archive-day") == 28 * 1440
        assert_equal_bars(
            lake.read_arrow("binance", "BTCUSDT", "1m"),
            emu.bars("BTCUSDT", start, utc_ms("2025-03-01")),
        )


def test_a_shared_budget_keeps_every_worker_under_the_limit_without_429(lake):
    budget, window_s = 60, 2  # published in exchangeInfo.rateLimits as 2 SECOND
    with Emulator(spot_budget=budget, weight_window_s=window_s) as emu:
        items = [spot(emu, s, archive=False) for s in ("BTC/USDT", "SOL/USDT", "ETH/USDT")]
        started = time.monotonic()
        results = run(lake, items, START, START + 10 * 1000 * 60_000, workers=3)
        elapsed = time.monotonic() - started
        assert all(r.ok for r in results), [r.error for r in results]
        entries = emu.binance.journal.entries()
        assert {e.status for e in entries} == {200}
        spent = sum(e.weight for e in entries)
        assert spent == 3 * 20 + 3 * 10 * 2  # exchangeInfo per worker, 10 kline pages each
        assert elapsed >= (spent - budget) / budget * window_s * 0.8  # the budget did bind


def test_a_streak_of_failures_gives_one_instrument_up_and_the_others_carry_on(emu, lake):
    emu.configure("binance:500x*@/api/v3/klines")
    broken = spot(emu, archive=False)
    fine = spot(emu, "BTC/USDT:USDT", market="swap", archive=False)
    bad, good = run(lake, [broken, fine], streak=3)
    assert not bad.ok and "gave up after 3 failures in a row" in bad.error
    assert "BTCUSDT" in bad.error
    assert good.ok and good.bars > 0
    assert len(emu.binance.journal.entries(KLINES)) == 3


def test_a_bad_symbol_is_not_retried(emu, lake):
    [result] = run(lake, [spot(emu, "NOPE/USDT", archive=False)])
    assert not result.ok and "no spot market 'NOPE/USDT'" in result.error
    assert emu.binance.journal.entries(KLINES) == []
    assert not (lake.root / "ohlcv").exists()


def test_a_base_url_that_refuses_connections_is_reported_by_name(lake):
    with Emulator() as emu:
        item = spot(emu, archive=False)
    [result] = run(lake, [item], streak=2)
    assert not result.ok
    assert result.error.startswith("BTCUSDT: gave up after 2 failures")
    assert not (lake.root / "ohlcv").exists()
