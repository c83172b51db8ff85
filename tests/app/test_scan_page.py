"""The Scan page through AppTest: the same ranking as `barlake.scan`, errors as messages, and a
ranked instrument opened on the Data page."""

from __future__ import annotations

from app_support import APP_ENTRY
from streamlit.testing.v1 import AppTest

from barlake.app import scan_view
from barlake.app.data_view import series_tree
from barlake.lake import Lake
from barlake.scan import scan


def open_scan(timeout: float = 60) -> AppTest:
    at = AppTest.from_file(str(APP_ENTRY), default_timeout=timeout)
    at.switch_page("views/scan.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def test_universes_are_the_lake_sources_holding_the_timeframe(app_lake, app_env):
    app_env(app_lake)
    at = open_scan()
    assert at.selectbox(key="scan.timeframe").value == "1h"
    assert at.selectbox(key="scan.universe").options == ["sample (3 instruments)"]
    assert texts(at.info) == ["Choose a universe and press Scan."]


def test_scan_ranks_like_barlake_scan(app_lake, app_env):
    app_env(app_lake)
    at = open_scan()
    at.text_input(key="scan.filter").input("rsi14 > 0")
    at.button[0].click().run()  # the form's Scan button
    assert not at.exception
    expected = scan(app_lake, "sample", timeframe="1h", filter="rsi14 > 0").ranked
    [table] = at.dataframe
    shown = table.value
    assert shown["instrument"].tolist() == expected["instrument"].tolist()
    assert shown["score"].tolist() == expected["score"].tolist()
    assert any(c.startswith("3 passed, 0 filtered out, 0 skipped") for c in texts(at.caption))


def test_a_bad_filter_is_shown_with_its_position_not_raised(app_lake, app_env):
    app_env(app_lake)
    at = open_scan()
    at.text_input(key="scan.filter").input("rsi14 >")
    at.button[0].click().run()
    assert not at.exception
    [error] = texts(at.error)
    assert error.startswith("Scanning: ") and "position 8" in error and "^" in error


def test_an_unknown_indicator_name_is_refused_with_examples(app_lake, app_env):
    app_env(app_lake)
    at = open_scan()
    at.text_input(key="scan.score").input("rsi_bogus * 2")
    at.button[0].click().run()
    [error] = texts(at.error)
    assert "unknown name 'rsi_bogus'" in error and "sma200" in error


def test_too_few_bars_are_listed_as_skipped_with_the_reason(app_lake, app_env):
    app_env(app_lake)
    at = open_scan()
    at.selectbox(key="scan.timeframe").select("4h").run()
    at.button[0].click().run()
    assert not at.exception
    assert texts(at.info) == ["No instrument passed the filter."]
    [skipped] = [e for e in at.expander if e.label == "3 skipped"]
    assert "needs at least" in skipped.dataframe[0].value["reason"].iloc[0]


def test_a_universe_file_scans_only_its_rows(app_lake, app_env, tmp_path):
    app_env(app_lake)
    universe = tmp_path / "two.csv"
    universe.write_text("instrument,source\nSOLUSDT,sample\nETHUSDT,sample\n")
    at = open_scan()
    at.text_input(key="scan.file").input(str(universe))
    at.button[0].click().run()
    assert not at.exception
    assert sorted(at.dataframe[0].value["instrument"]) == ["ETHUSDT", "SOLUSDT"]


def test_a_missing_universe_file_is_a_readable_error(app_lake, app_env, tmp_path):
    app_env(app_lake)
    at = open_scan()
    at.text_input(key="scan.file").input(str(tmp_path / "nope.csv"))
    at.button[0].click().run()
    assert not at.exception
    [error] = texts(at.error)
    assert "nope.csv not found" in error


def test_open_chart_switches_to_the_data_page_on_that_instrument(app_lake, app_env):
    app_env(app_lake)
    at = open_scan()
    at.button[0].click().run()
    at.selectbox(key="scan.open").select("sample/SOLUSDT")
    at.button(key="scan.open_button").click().run()
    assert not at.exception
    assert at.selectbox(key="data.instrument").value == "SOLUSDT"
    assert at.selectbox(key="data.timeframe").value == "1h"
    assert "sample / SOLUSDT — 1h: 60 candles" in texts(at.caption)


def test_empty_lake_says_how_to_fill_it(tmp_path, app_env):
    app_env(tmp_path / "empty")
    at = open_scan()
    [warning] = texts(at.warning)
    assert "holds no series yet" in warning


def test_universe_labels_map_back_to_scan_arguments(app_lake):
    options = scan_view.universes(series_tree(Lake(app_lake)), "5m", [app_lake / "missing.csv"])
    assert options == ["sample (3 instruments)"]
    assert scan_view.universe_value(options[0]) == "sample"
    assert scan_view.universe_value("file: /tmp/u (1).csv") == "/tmp/u (1).csv"
