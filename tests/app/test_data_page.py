"""The Data page through Streamlit's AppTest: selectors from the lake, chart, coverage, sync."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from app_support import APP_ENTRY, walk_1m
from streamlit.testing.v1 import AppTest

from barlake.app import charts, data_view, sync_job
from barlake.dates import now_ms, to_ms
from barlake.demo import demo_instruments
from barlake.emulator import Emulator
from barlake.instruments import write_instruments
from barlake.lake import Lake, SeriesKey
from barlake.timeframes import DAY_MS

YEAR_MINUTES = 365 * 24 * 60


def open_app(timeout: float = 60) -> AppTest:
    at = AppTest.from_file(str(APP_ENTRY), default_timeout=timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def test_selectors_list_the_series_found_in_the_lake(app_lake, app_env):
    app_env(app_lake)
    at = open_app()
    labels = {box.label: box for box in at.selectbox}
    assert labels["Source"].options == ["sample"]
    assert labels["Instrument"].options == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert labels["Timeframe"].options == ["1m", "5m", "1h", "4h"]
    assert "sample / BTCUSDT — 1m aggregated to 5m: 864 candles" in texts(at.caption)


def test_choosing_a_timeframe_redraws_without_aggregation_when_it_fits(app_lake, app_env):
    app_env(app_lake)
    at = open_app()
    at.selectbox(key="data.timeframe").select("1h").run()
    assert not at.exception
    assert "sample / BTCUSDT — 1h: 72 candles" in texts(at.caption)


def test_a_date_range_narrows_the_chart_to_the_days_picked(app_lake, app_env):
    app_env(app_lake)
    at = open_app()
    at.selectbox(key="data.timeframe").select("1h").run()
    at.date_input(key="data.range").set_value((pd.Timestamp("2024-03-02").date(),) * 2).run()
    assert not at.exception
    assert "sample / BTCUSDT — 1h: 24 candles" in texts(at.caption)


def test_empty_lake_says_how_to_fill_it(tmp_path, app_env):
    app_env(tmp_path / "empty")
    at = open_app()
    [warning] = texts(at.warning)
    assert "holds no series yet" in warning and "barlake demo --lake" in warning
    assert not at.selectbox


def test_coverage_counts_known_empty_and_missing_minutes_per_day(app_lake):
    lake = Lake(app_lake)
    begin, end = to_ms("2024-03-01"), to_ms("2024-03-04")
    eth = data_view.day_coverage(lake, SeriesKey.make("sample", "ETHUSDT", "1m"), begin, end)
    assert eth["known empty"].tolist() == [0, 120, 0] and eth["missing"].tolist() == [0, 0, 0]
    assert eth["status"].tolist() == ["complete", "partly known empty", "complete"]
    sol = data_view.day_coverage(lake, SeriesKey.make("sample", "SOLUSDT", "1m"), begin, end)
    assert sol["missing"].tolist() == [0, 720, 0] and sol["present"].tolist() == [1440, 720, 1440]
    assert sol["status"].tolist() == ["complete", "partly missing", "complete"]


def test_coverage_of_a_derived_series_counts_its_bars_in_minutes(app_lake):
    lake = Lake(app_lake)
    key = SeriesKey.make("sample", "ETHUSDT", "1h")
    days = data_view.day_coverage(lake, key, to_ms("2024-03-01"), to_ms("2024-03-04"))
    # the two empty hours were answered for 1m, so derive wrote no bar and answered them too
    assert days["present"].tolist() == [1440, 1320, 1440]
    assert days["known empty"].tolist() == [0, 120, 0]


def test_coverage_summary_on_the_page_names_the_partial_day(app_lake, app_env):
    app_env(app_lake)
    at = open_app()
    at.selectbox(key="data.instrument").select("SOLUSDT").run()
    summary = [m for m in texts(at.markdown) if "days, UTC" in m]
    assert summary == ["**2** complete · **1** partly missing (days, UTC; 1m bars)"]
    assert [e.label for e in at.expander] == ["1 day(s) not complete"]


def test_a_corrupt_month_file_is_a_readable_error_naming_the_repair(tmp_path, app_env):
    lake = Lake(tmp_path / "lake")
    lake.write("sample", "BTCUSDT", "1m", walk_1m("2024-03-01", 120, seed=9))
    [month] = lake.months(SeriesKey.make("sample", "BTCUSDT", "1m"))
    lake.path(SeriesKey.make("sample", "BTCUSDT", "1m"), *month).write_bytes(b"not parquet")
    app_env(lake.root)
    at = open_app()
    [error] = texts(at.error)
    assert "barlake verify --repair" in error and "Traceback" not in error


def test_preselection_from_another_page_opens_that_series(app_lake, app_env):
    app_env(app_lake)
    at = AppTest.from_file(str(APP_ENTRY), default_timeout=60)
    at.session_state["barlake.open"] = {
        "source": "sample",
        "instrument": "SOLUSDT",
        "timeframe": "4h",
    }
    at.run()
    assert not at.exception
    assert at.selectbox(key="data.instrument").value == "SOLUSDT"
    assert at.selectbox(key="data.timeframe").value == "4h"
    assert "sample / SOLUSDT — 4h: 15 candles" in texts(at.caption)


def test_a_series_without_an_instruments_row_says_it_cannot_be_synced(app_lake, app_env):
    app_env(app_lake)
    at = open_app()
    [info] = texts(at.info)
    assert "No instruments row for sample/BTCUSDT" in info and "BARLAKE_INSTRUMENTS" in info
    assert not [b for b in at.button if b.label.startswith("Sync")]


def test_an_unreadable_instruments_file_is_reported_not_raised(app_lake, app_env, tmp_path):
    app_env(app_lake)
    bad = tmp_path / "instruments.csv"
    bad.write_text("instrument,backend\nBTCUSDT,nonsense\n")
    at = open_app()
    at.text_input(key="data.instruments_file").input(str(bad)).run()
    assert not at.exception
    assert any(str(bad) in w for w in texts(at.warning))
    assert any("No instruments row" in i for i in texts(at.info))


@pytest.fixture
def emulator_lake(tmp_path):
    """A lake with one hour of binance BTCUSDT 1m and the demo's instruments file on an emulator."""
    with Emulator() as emu:
        lake = Lake(tmp_path / "lake")
        start = now_ms() - DAY_MS
        start -= start % DAY_MS
        seed = walk_1m(str(pd.Timestamp(start - DAY_MS, unit="ms")), 60, seed=3, price=60_000.0)
        lake.write("binance", "BTCUSDT", "1m", seed)
        rows = [r for r in demo_instruments(emu, start) if r.key == ("binance", "BTCUSDT")]
        write_instruments(lake.root / "demo" / "instruments.csv", rows, merge=False)
        yield lake


def test_sync_button_fills_the_lake_in_the_background(emulator_lake, app_env):
    app_env(emulator_lake.root)
    key = SeriesKey.make("binance", "BTCUSDT", "1m")
    before = len(emulator_lake.timestamps(key))
    at = open_app()
    assert any("Row from" in c for c in texts(at.caption))
    at.button(key="data.sync").click().run()
    assert not at.exception
    job = sync_job.job_for(emulator_lake, "binance", "BTCUSDT")
    assert job is not None and sync_job.wait(job, 120), "sync did not finish in 2 minutes"
    assert job.error is None and job.fraction == 1.0
    assert job.bars > 0 and len(emulator_lake.timestamps(key)) == before + job.result.bars
    at.run()
    [done] = texts(at.success)
    assert done.startswith(f"Synced {job.result.bars:,} new 1m bars")


def test_a_failing_sync_is_reported_on_the_page_with_what_to_do(tmp_path, app_env):
    with Emulator() as emu:  # stopped before the sync: every request is refused
        rows = [r for r in demo_instruments(emu, now_ms() - DAY_MS) if r.source == "binance"]
    lake = Lake(tmp_path / "lake")
    lake.write("binance", "BTCUSDT", "1m", walk_1m("2024-03-01", 60, seed=3, price=60_000.0))
    write_instruments(lake.root / "demo" / "instruments.csv", rows, merge=False)
    app_env(lake.root)
    at = open_app()
    at.button(key="data.sync").click().run()
    job = sync_job.job_for(lake, "binance", "BTCUSDT")
    assert job is not None and sync_job.wait(job, 120)
    at.run()
    assert not at.exception
    [error] = texts(at.error)
    assert error.startswith("The sync failed: ") and "retry" in error
    assert "NetworkError" in error


def write_year(root: Path) -> SeriesKey:
    """A year of 1m bars written through Lake.write (validated and covered, as a sync would)."""
    lake = Lake(root)
    bars = walk_1m("2023-01-01", YEAR_MINUTES, seed=7, price=20_000.0)
    span = [(to_ms("2023-01-01"), to_ms("2023-01-01") + YEAR_MINUTES * 60_000)]
    lake.write("perf", "BTCUSDT", "1m", bars, covered=span)
    return SeriesKey.make("perf", "BTCUSDT", "1m")


ALL_STUDIES = charts.Studies(
    sma=(50, 200), ema=(21,), bbands=(20, 2.0), rsi=14, macd=(12, 26, 9), atr=14, natr=14
)


def chart_year(lake: Lake, key: SeriesKey) -> tuple[charts.Downsampled, str, pd.DataFrame]:
    """What the Data page does for a whole year: read, aggregate, figure, JSON, coverage."""
    shown = data_view.load_chart(lake, key)
    payload = charts.price_figure(shown.frame, ALL_STUDIES).to_json()  # what the browser gets
    days = data_view.day_coverage(lake, key, to_ms("2023-01-01"), to_ms("2024-01-01"))
    return shown, payload, days


def test_a_year_of_1m_bars_is_charted_in_under_two_seconds(tmp_path):
    key = write_year(tmp_path / "lake")
    lake = Lake(tmp_path / "lake")
    warm = data_view.load_chart(lake, key, to_ms("2023-01-01"), to_ms("2023-01-02"))
    charts.price_figure(warm.frame, ALL_STUDIES)  # compile the kernels outside the clock
    walls, cpus = [], []
    for _ in range(3):  # best of three: other processes share these cores
        wall, cpu = time.perf_counter(), time.process_time()
        shown, payload, days = chart_year(lake, key)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    assert shown.label == "1m aggregated to 4h: 2,190 candles"
    assert len(shown.frame) <= charts.MAX_CANDLES and len(days) == 365
    figure = charts.price_figure(shown.frame, ALL_STUDIES)
    assert charts.point_count(figure) <= charts.MAX_CANDLES * len(figure.data)
    assert len(payload) < 2_000_000
    assert min(walls) < 2.0, f"a year of 1m took {min(walls):.2f} s to load and chart"
    assert min(cpus) < 1.0, f"a year of 1m took {min(cpus):.2f} s of CPU to load and chart"


def test_the_data_page_over_a_year_of_1m_stays_fast(tmp_path, app_env):
    write_year(tmp_path / "lake")
    app_env(tmp_path / "lake")
    open_app()  # first run: imports and numba kernels
    at = AppTest.from_file(str(APP_ENTRY), default_timeout=60)
    began = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - began
    assert not at.exception
    assert "perf / BTCUSDT — 1m aggregated to 4h: 2,190 candles" in texts(at.caption)
    assert seconds < 4.0, f"the Data page took {seconds:.2f} s over a year of 1m"
