"""Dukascopy through the sync against the emulator: the lake equals the emulator's truth for
both transports and every side, weekends are known-empty, re-runs ask nothing, flaky
empties are asked again and stubborn ones left missing, and every fault ends in the same
lake. The clock is the emulator's, a Wednesday morning, so today comes from tick files."""

from __future__ import annotations

import filecmp
import logging

import pytest

from barlake.emulator import Emulator, utc_ms
from barlake.errors import ConfigError
from barlake.instruments import Instrument
from barlake.lake import Lake
from barlake.lake import intervals as iv
from barlake.sources.registry import FeedFactory
from barlake.sources.retry import RetryPolicy
from barlake.sync import InstrumentResult, SyncOptions, Window, plan_instrument, sync
from sync_support import assert_equal_bars

NOW = utc_ms("2024-03-06T10:17:30")  # Wednesday
START = utc_ms("2024-02-26")  # Monday: the window crosses 29 Feb, a weekend and a month end
END = utc_ms("2024-03-06T10:17")  # the last closed minute
HOUR_START = utc_ms("2024-03-06T10:00")  # bi5 has no file for the hour in progress
WEEKEND = (utc_ms("2024-03-01T22:00"), utc_ms("2024-03-03T22:00"))
TUESDAY = (
    "/datafeed/EURUSD/2024/02/05/BID_candles_min_1.bi5",
    "/v1/candles/minute/EUR-USD/BID/2024/3/5",
)


@pytest.fixture
def emu():
    with Emulator(clock=lambda: NOW) as emulator:
        yield emulator


def fx(emu: Emulator, symbol: str = "EURUSD", **kw: object) -> Instrument:
    return Instrument(symbol, "dukascopy", symbol, base_url=emu.dukascopy_url, **kw)  # type: ignore[arg-type]


def run(
    lake: Lake, emu: Emulator, items: list[Instrument], start: int = START, end: int = END, *,
    streak: int = 5, timeout_s: float = 5.0, workers: int = 2, keep_flats: bool = False,
) -> list[InstrumentResult]:  # fmt: skip
    factory = FeedFactory(
        RetryPolicy(fail_streak=streak, base_s=0.01, cap_s=0.05),
        timeout_s=timeout_s,
        clock=emu.clock,
        duk_workers=workers,
        duk_keep_flats=keep_flats,
    )
    options = SyncOptions(Window(start, end), (), {"dukascopy": workers}, factory=factory)
    return sync(lake, items, options)


def covered_end(transport: str) -> int:
    return END if transport == "json" else HOUR_START


def key(lake: Lake, name: str = "EURUSD"):
    return lake.key("dukascopy", name, "1m")


@pytest.mark.parametrize("transport", ["json", "bi5"])
@pytest.mark.parametrize("side", ["bid", "ask", "mid"])
def test_each_transport_and_side_fills_the_lake_with_the_truth(emu, lake, transport, side):
    [result] = run(lake, emu, [fx(emu, side=side, transport=transport)])
    assert result.ok, result.error
    stop = covered_end(transport)
    assert_equal_bars(
        lake.read_arrow("dukascopy", "EURUSD", "1m"),
        emu.dukascopy_bars("EURUSD", START, stop, side),
    )
    assert set(result.via) == {f"{transport}-day", f"{transport}-ticks"}
    assert lake.coverage(key(lake)).answered == [(START, stop)]
    assert iv.subtract([WEEKEND], lake.known_empty(key(lake), START, stop)) == []


def test_json_and_bi5_fill_identical_lake_files(emu, tmp_path):
    end = utc_ms("2024-03-06")
    lakes = {t: Lake(tmp_path / t) for t in ("json", "bi5")}
    for transport, lake in lakes.items():
        items = [fx(emu, transport=transport), fx(emu, "USDJPY", transport=transport, side="mid")]
        assert all(r.ok for r in run(lake, emu, items, end=end))
    for name in ("EURUSD", "USDJPY"):
        months = lakes["json"].months(key(lakes["json"], name))
        assert months == lakes["bi5"].months(key(lakes["bi5"], name)) == [(2024, 2), (2024, 3)]
        for year, month in months:
            assert filecmp.cmp(
                lakes["json"].path(key(lakes["json"], name), year, month),
                lakes["bi5"].path(key(lakes["bi5"], name), year, month),
                shallow=False,
            )


@pytest.mark.parametrize("transport", ["json", "bi5"])
def test_a_rerun_over_a_synced_range_makes_no_request_at_all(emu, lake, transport):
    item = fx(emu, side="mid", transport=transport)
    run(lake, emu, [item], end=covered_end(transport))
    emu.reset()
    [again] = run(lake, emu, [item], end=covered_end(transport))
    assert again.ok and again.bars == 0 and again.requests == 0
    assert len(emu.dukascopy.journal) == 0


@pytest.mark.parametrize(("transport", "path"), [("bi5", TUESDAY[0]), ("json", TUESDAY[1])])
def test_a_one_shot_empty_answer_on_a_trading_day_is_asked_again(emu, lake, transport, path):
    emu.dukascopy.faults.add("empty", path=path)
    [result] = run(lake, emu, [fx(emu, transport=transport)])
    assert result.ok
    assert len(emu.dukascopy.journal.entries(path)) == 2
    stop = covered_end(transport)
    want = emu.dukascopy_bars("EURUSD", START, stop)
    assert_equal_bars(lake.read_arrow("dukascopy", "EURUSD", "1m"), want)


@pytest.mark.parametrize(("transport", "path"), [("bi5", TUESDAY[0]), ("json", TUESDAY[1])])
def test_a_mid_day_asks_again_only_for_the_side_that_came_back_empty(emu, lake, transport, path):
    emu.dukascopy.faults.add("empty", path=path)
    [result] = run(lake, emu, [fx(emu, side="mid", transport=transport)])
    assert result.ok, result.error
    ask = path.replace("BID", "ASK")
    assert len(emu.dukascopy.journal.entries(path)) == 2
    assert len(emu.dukascopy.journal.entries(ask)) == 1
    assert_equal_bars(
        lake.read_arrow("dukascopy", "EURUSD", "1m"),
        emu.dukascopy_bars("EURUSD", START, covered_end(transport), "mid"),
    )


def test_a_trading_day_that_stays_empty_is_left_missing_and_fetched_by_the_next_run(
    emu, lake, caplog
):
    emu.dukascopy.faults.add("empty", times=None, path=TUESDAY[1])
    with caplog.at_level(logging.WARNING, "barlake.sources.dukascopy"):
        [result] = run(lake, emu, [fx(emu)])
    assert result.ok  # the other days are stored; this one is reported missing
    assert result.still_missing == 1440
    assert "2024-03-05 00:00 minute file (json) came back empty 3 times" in caplog.text
    tuesday = (utc_ms("2024-03-05"), utc_ms("2024-03-06"))
    assert lake.missing(key(lake), START, END) == [tuesday]
    assert iv.intersect(lake.known_empty(key(lake), START, END), [tuesday]) == []
    plan = plan_instrument(lake, fx(emu), Window(START, END), NOW)
    assert plan.missing == [tuesday]
    emu.reset()
    [again] = run(lake, emu, [fx(emu)])
    assert again.ok and again.bars > 1000
    assert {e.path for e in emu.dukascopy.journal.entries()} == {TUESDAY[1]}
    assert_equal_bars(
        lake.read_arrow("dukascopy", "EURUSD", "1m"), emu.dukascopy_bars("EURUSD", START, END)
    )


def test_a_failed_month_merge_fails_the_instrument_and_keeps_the_months_merged_before_it(emu, lake):
    march = lake.path(key(lake), 2024, 3)  # merges run on their own thread, in month order
    march.parent.mkdir(parents=True, exist_ok=True)
    march.write_bytes(b"not a parquet file")
    [result] = run(lake, emu, [fx(emu)])
    assert not result.ok and "03.parquet" in result.error
    february = (START, utc_ms("2024-03-01"))
    assert lake.missing(key(lake), START, END) == [(february[1], END)]
    assert_equal_bars(
        lake.read_arrow("dukascopy", "EURUSD", "1m", *february),
        emu.dukascopy_bars("EURUSD", *february),
    )


@pytest.mark.parametrize("no_data", ["404", "empty"])
def test_closed_hours_answered_404_or_empty_become_known_empty(lake, no_data):
    saturday = utc_ms("2024-03-09T10:17:30")
    with Emulator(clock=lambda: saturday) as emu:
        emu.dukascopy_rules.no_data = no_data
        start, end = utc_ms("2024-03-08"), utc_ms("2024-03-09T10:00")
        [result] = run(lake, emu, [fx(emu, transport="bi5")], start, end)
        assert result.ok, result.error
        assert_equal_bars(
            lake.read_arrow("dukascopy", "EURUSD", "1m"), emu.dukascopy_bars("EURUSD", start, end)
        )
        statuses = {e.status for e in emu.dukascopy.journal.entries()}
        assert statuses == ({200, 404} if no_data == "404" else {200})
        closed = (utc_ms("2024-03-08T22:00"), end)
        assert iv.subtract([closed], lake.known_empty(key(lake), start, end)) == []


@pytest.mark.parametrize("transport", ["json", "bi5"])
@pytest.mark.parametrize(
    "fault", ["503x3", "503x4/3", "hang=5x2", "truncatex2", "badlengthx2", "dropx2", "500x1"]
)
def test_every_fault_ends_in_the_same_lake(emu, lake, transport, fault):
    emu.configure(f"dukascopy:{fault}")
    [result] = run(lake, emu, [fx(emu, side="mid", transport=transport)], timeout_s=0.4)
    assert result.ok, result.error
    stop = covered_end(transport)
    assert_equal_bars(
        lake.read_arrow("dukascopy", "EURUSD", "1m"),
        emu.dukascopy_bars("EURUSD", START, stop, "mid"),
    )
    assert all(rule.fired for rule in emu.dukascopy.faults.rules), "the fault never fired"


def test_a_streak_of_failures_gives_one_instrument_up_and_the_others_carry_on(emu, lake):
    emu.configure("dukascopy:503x*@/v1/candles/minute/EUR-USD")
    bad, good = run(lake, emu, [fx(emu), fx(emu, "USDJPY")], streak=3)
    assert not bad.ok and "EURUSD: gave up after 3 failures in a row" in bad.error
    assert "HTTP 503" in bad.error
    assert good.ok and good.bars > 5000


def test_empty_answers_for_every_trading_day_give_up_naming_the_likely_causes(emu, lake):
    emu.configure("dukascopy:emptyx*")
    [result] = run(lake, emu, [fx(emu)], streak=2)
    assert not result.ok
    assert "gave up after 2 trading periods in a row came back empty" in result.error
    assert "data_symbol 'EURUSD' may be wrong" in result.error


def test_kept_flats_store_the_closed_periods_of_bi5_files(emu, lake):
    saturday = (utc_ms("2024-03-02"), utc_ms("2024-03-03"))
    [result] = run(lake, emu, [fx(emu, transport="bi5")], *saturday, keep_flats=True)
    assert result.ok
    stored = lake.read_arrow("dukascopy", "EURUSD", "1m")
    assert stored.num_rows == 1440
    assert set(stored.column("volume").to_pylist()) == {0.0}
    close = emu.dukascopy_bars("EURUSD", utc_ms("2024-03-01"), saturday[0]).column("close")[-1]
    assert set(stored.column("open").to_pylist()) == {close.as_py()}  # Friday's last close


def test_instruments_without_a_start_begin_at_the_tables_first_day(emu):
    assert FeedFactory().feed(fx(emu, "USA500IDXUSD")).listing() == utc_ms("2012-01-16")
    unknown = Instrument("X", "dukascopy", "USDXYZ", price_scale=1e5)
    with pytest.raises(ConfigError, match="no first day is known for USDXYZ"):
        FeedFactory().feed(unknown).listing()
    with pytest.raises(ConfigError, match="price_scale is needed"):
        FeedFactory().feed(Instrument("X", "dukascopy", "USDXYZ"))


def test_holidays_are_known_empty_and_bars_the_calendar_did_not_expect_are_kept(lake):
    new_year = utc_ms("2024-01-03")
    with Emulator(clock=lambda: new_year) as emu:
        start, end = utc_ms("2023-12-22"), new_year
        items = [fx(emu), fx(emu, "BTCUSD"), fx(emu, "USA500IDXUSD", transport="bi5")]
        assert all(r.ok for r in run(lake, emu, items, start, end))
        for name in ("EURUSD", "BTCUSD", "USA500IDXUSD"):
            assert_equal_bars(
                lake.read_arrow("dukascopy", name, "1m"), emu.dukascopy_bars(name, start, end)
            )
        christmas = [(utc_ms("2023-12-25"), utc_ms("2023-12-26"))]
        assert iv.subtract(christmas, lake.known_empty(key(lake), start, end)) == []
        btc = lake.read("dukascopy", "BTCUSD", "1m", "2023-12-25", "2023-12-26")
        assert len(btc) > 1000  # crypto CFDs trade on holidays and weekends
    good_friday = utc_ms("2024-03-29")
    with Emulator(clock=lambda: good_friday + 86_400_000) as emu:
        [cfd] = run(lake, emu, [fx(emu, "USA500IDXUSD")], good_friday, good_friday + 86_400_000)
        assert cfd.ok and cfd.bars > 1000  # the calendar said "may be closed"; the venue traded


def test_sync_only_dukascopy_with_a_filter_plans_and_syncs_from_the_command_line(tmp_path, capsys):
    from barlake.cli.main import main

    with Emulator() as emu:
        rows = [("EURUSD", "EURUSD", ""), ("USDJPY", "USDJPY", "mid"), ("GBPUSD", "GBPUSD", ""),
                ("XAUUSD", "XAUUSD", ""), ("US500.cash", "USA500IDXUSD", "")]  # fmt: skip
        text = "instrument,backend,data_symbol,exchange,side,transport,base_url\n"
        text += "".join(
            f"{n},dukascopy,{s},,{side},bi5,{emu.dukascopy_url}\n" for n, s, side in rows
        )
        text += f"BTCUSDT,ccxt,BTC/USDT,binance,,,{emu.base_url}\n"
        config = tmp_path / "instruments.csv"
        config.write_text(text)
        args = ["sync", "--config", str(config), "--lake", str(tmp_path / "lake"),
                "--start", "2024-01-08", "--end", "2024-01-10", "--only", "dukascopy",
                "--filter", "^(EUR|USD|GBP|JPY)", "--derive", "1h"]  # fmt: skip
        assert main([*args, "--plan"]) == 0
        plan = capsys.readouterr().out
        assert all(name in plan for name in ("EURUSD", "USDJPY", "GBPUSD"))
        assert "XAUUSD" not in plan and "US500" not in plan and "BTCUSDT" not in plan
        assert "2024-01-08 00:00 → 2024-01-10 00:00 (2,880 bars)" in plan
        assert len(emu.dukascopy.journal) == 0
        assert main([*args, "--duk-workers", "3", "--sleep-ms", "1"]) == 0
        assert "synced 3/3 instruments" in capsys.readouterr().out
        assert len(emu.binance.journal) == 0
        lake = Lake(tmp_path / "lake")
        assert lake.read("dukascopy", "USDJPY", "1h").shape[0] == 48
        emu.reset()
        assert main([*args, "--quiet"]) == 0
        assert "0 bars added" in capsys.readouterr().out
        assert len(emu.dukascopy.journal) == 0


def test_duk_workers_bound_the_requests_in_flight_for_the_whole_run(lake):
    with Emulator() as emu:  # wall clock: the journal stamps when each request arrived
        emu.configure("dukascopy:slow=0.1x*")
        start, end = utc_ms("2024-01-08"), utc_ms("2024-01-13")
        items = [fx(emu, side="mid"), fx(emu, "USDJPY", side="mid")]
        assert all(r.ok for r in run(lake, emu, items, start, end, workers=3))
        arrivals = sorted(e.at_ms for e in emu.dukascopy.journal.entries())
    assert len(arrivals) == 2 * 5 * 2
    in_flight = [sum(1 for t in arrivals if a - 100 < t <= a) for a in arrivals]
    assert 2 <= max(in_flight) <= 3  # parallel, but never more than --duk-workers
