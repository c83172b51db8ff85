"""The sync against the emulator: REST and archive paths, incremental runs, bounds."""

from __future__ import annotations

import filecmp

from barlake.emulator import utc_ms
from barlake.instruments import Instrument
from barlake.lake import Lake
from barlake.lake import intervals as iv
from sync_support import END, START, assert_equal_bars, run, spot

HOLE = (utc_ms("2025-03-12T02:00"), utc_ms("2025-03-12T04:00"))


def test_rest_sync_equals_the_venue_truth_and_records_the_hole_as_known_empty(emu, lake):
    [result] = run(lake, [spot(emu, archive=False)])
    assert result.ok, result.error
    assert set(result.via) == {"rest"}
    assert_equal_bars(lake.read_arrow("binance", "BTCUSDT", "1m"), emu.bars("BTCUSDT", START, END))
    key = lake.key("binance", "BTCUSDT", "1m")
    assert lake.coverage(key).answered == [(START, END)]
    assert lake.known_empty(key, START, END) == [HOLE]


def test_archive_and_rest_paths_write_identical_lake_files(emu, tmp_path):
    rest, archive = Lake(tmp_path / "rest"), Lake(tmp_path / "archive")
    start, end = utc_ms("2025-01-01"), utc_ms("2025-03-03T07:00")
    [a] = run(archive, [spot(emu)], start, end)
    [r] = run(rest, [spot(emu)], start, end, archive=False)
    assert a.ok and r.ok
    assert {"archive-month", "archive-day", "rest"} <= set(a.via)  # Jan+Feb zips, 2 days, tail
    assert set(r.via) == {"rest"}
    key = rest.key("binance", "BTCUSDT", "1m")
    months = rest.months(key)
    assert months == archive.months(key) == [(2025, 1), (2025, 2), (2025, 3)]
    for year, month in months:
        assert filecmp.cmp(
            rest.path(key, year, month), archive.path(key, year, month), shallow=False
        )
    assert rest.coverage(key).answered == archive.coverage(key).answered == [(start, end)]


def test_usdm_archive_with_a_header_line_matches_the_truth(emu, lake):
    item = spot(emu, "BTC/USDT:USDT", market="swap")
    [result] = run(lake, [item], utc_ms("2024-11-01"), utc_ms("2024-12-02"))
    assert result.ok and result.via.get("archive-month")
    want = emu.usdm_bars("BTCUSDT", utc_ms("2024-11-01"), utc_ms("2024-12-02"))
    assert_equal_bars(lake.read_arrow("binance_swap", "BTCUSDT", "1m"), want)


def test_a_rerun_after_success_makes_no_kline_request(emu, lake):
    run(lake, [spot(emu)])
    emu.reset()
    [again] = run(lake, [spot(emu)])
    assert again.ok and again.bars == 0
    assert emu.binance.journal.entries("/api/v3/klines") == []
    assert emu.archive.journal.entries() == []


def test_a_later_end_fetches_only_the_new_tail(emu, lake):
    run(lake, [spot(emu, archive=False)], START, END)
    emu.reset()
    [more] = run(lake, [spot(emu, archive=False)], START, END + 3_600_000)
    asked = emu.binance.journal.entries("/api/v3/klines")
    assert more.bars == 60 and len(asked) == 1
    assert int(asked[0].params["startTime"]) == END


def test_a_hole_in_the_middle_is_repaired_and_an_earlier_start_backfills(emu, lake):
    item = spot(emu, archive=False)
    run(lake, [item], START, END)
    key = lake.key("binance", "BTCUSDT", "1m")
    gap = (utc_ms("2025-03-05"), utc_ms("2025-03-05T06:00"))
    lake.replace_range(key, emu.bars("BTCUSDT", 0, 0), *gap)  # remove the bars...
    lake.drop_coverage(key, [gap])  # ...and forget that range was ever answered
    emu.reset()
    [fixed] = run(lake, [item], START - 86_400_000, END)
    starts = sorted(
        int(e.params["startTime"]) for e in emu.binance.journal.entries("/api/v3/klines")
    )
    assert starts == [START - 86_400_000, START - 86_400_000 + 1000 * 60_000, gap[0]]
    assert fixed.bars == 1440 + 360
    want = emu.bars("BTCUSDT", START - 86_400_000, END)
    assert_equal_bars(lake.read_arrow("binance", "BTCUSDT", "1m"), want)


def test_the_forming_candle_is_never_stored(emu, lake):
    now = emu.clock()
    [result] = run(lake, [spot(emu, archive=False)], now - 3 * 3_600_000, None)
    assert result.ok
    stored = lake.read_arrow("binance", "BTCUSDT", "1m").column("timestamp_ms").to_numpy()
    assert stored[-1] + 60_000 <= emu.clock()
    assert lake.coverage(lake.key("binance", "BTCUSDT", "1m")).answered[0][1] <= emu.clock()


def test_without_any_start_the_first_sync_begins_at_the_listing(emu, lake):
    item = spot(emu, "ETH/USDT", archive=False)  # listed 2024-03-15 09:00 on the emulator
    [result] = run(lake, [item], None, utc_ms("2024-03-16"))
    assert result.ok and result.bars == 15 * 60
    key = lake.key("binance", "ETHUSDT", "1m")
    assert lake.coverage(key).answered == [(utc_ms("2024-03-15T09:00"), utc_ms("2024-03-16"))]


def test_hyperliquid_syncs_its_retention_window_and_reports_older_ranges(emu, lake):
    item = Instrument(
        "BTC", "ccxt", "BTC/USDC:USDC", "hyperliquid", market="swap", base_url=emu.hyperliquid_url
    )
    now = emu.clock()
    [result] = run(lake, [item], now - 5 * 86_400_000, None)
    assert result.ok, result.error
    retained = iv.total(result.beyond_retention) // 60_000
    assert 5 * 1440 - 5000 - 10 < retained < 5 * 1440 - 5000 + 10
    got = lake.read_arrow("hyperliquid_swap", "BTC", "1m")
    first = int(got.column("timestamp_ms")[0].as_py())
    assert_equal_bars(got, emu.hyperliquid_bars("BTC", first, now - now % 60_000))
    assert not [e for e in emu.hyperliquid.journal.entries() if e.status != 200]


def test_short_pages_are_not_taken_for_the_end_on_venues_that_cap_pages_silently(emu, lake):
    """Generic venues (OKX caps at 300, Bybit at 200…) may answer fewer bars than asked; the
    loop keeps going until an empty page instead of recording a false known-empty range."""
    from dataclasses import replace

    from barlake.sources.budget import Budget
    from barlake.sources.ccxt_rest import CcxtFeed
    from barlake.sources.exchanges import open_exchange
    from barlake.sources.retry import Attempts, RetryPolicy
    from barlake.sources.venues import BINANCE_SPOT

    item = spot(emu, archive=False)
    rules = replace(BINANCE_SPOT, page_limit=1500, short_page_is_end=False)  # the venue sends 1000
    exchange = open_exchange("binance", base_url=emu.base_url)
    feed = CcxtFeed(exchange, item, rules, Budget(6000), Attempts(RetryPolicy(), "BTCUSDT"))
    start, end = utc_ms("2025-01-01"), utc_ms("2025-01-03")
    pages = list(feed.fetch(start, end))
    assert [p.bars.num_rows for p in pages] == [1000, 1000, 880]  # short pages: keep going
    assert iv.normalize(p.answered for p in pages) == [(start, end)]
    eth = CcxtFeed(
        exchange, spot(emu, "ETH/USDT"), rules, Budget(6000), Attempts(RetryPolicy(), "E")
    )
    before = (utc_ms("2024-03-15"), utc_ms("2024-03-15T08:00"))  # before ETHUSDT's listing
    [empty] = list(eth.fetch(*before))
    assert empty.bars.num_rows == 0 and empty.answered == before  # an empty page ends it
