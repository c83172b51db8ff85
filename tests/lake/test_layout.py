"""Names that could escape the lake are refused; paths, months and series listing follow the layout."""

from __future__ import annotations

import pandas as pd
import pytest

from barlake.dates import to_ms
from barlake.errors import ConfigError
from barlake.lake import layout
from barlake.lake.layout import SeriesKey, check_name


def ms(text: str) -> int:
    value = to_ms(text)
    assert value is not None
    return value


BAD_NAMES = [
    "../x",
    "",
    "a/b",
    "a\\b",
    "..",
    ".",
    "...",
    "has space",
    " BTC",
    "BTC\t",
    "BTC\n",
    "Straße",
    "ÉURUSD",
    "BTC💰",
    "a:b",
    "*",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_instrument_names_are_refused_with_a_clear_message(name):
    with pytest.raises(ConfigError) as info:
        check_name("instrument", name)
    message = str(info.value)
    assert message.startswith(f"bad instrument name {name!r}")
    assert "letters, digits" in message
    assert "\n" not in message.replace(repr(name), "")


@pytest.mark.parametrize("name", [None, 42, b"BTC"])
def test_names_that_are_not_text_are_refused(name):
    with pytest.raises(ConfigError, match="bad source name"):
        check_name("source", name)


@pytest.mark.parametrize("name", ["US500.cash", "BTC-USDT_1", "EURUSD", "binance_swap", "a", "..a"])
def test_good_names_are_returned_unchanged(name):
    assert check_name("instrument", name) == name


@pytest.mark.parametrize("field", ["source", "instrument"])
def test_series_key_checks_both_names(field):
    names = {"source": "binance", "instrument": "BTCUSDT", field: "../etc"}
    with pytest.raises(ConfigError, match=f"bad {field} name"):
        SeriesKey.make(names["source"], names["instrument"], "1m")


@pytest.mark.parametrize(
    ("given", "folder"), [("60m", "1h"), ("1440m", "1d"), ("7d", "1w"), ("4h", "4h"), ("1m", "1m")]
)
def test_timeframe_folder_is_the_canonical_name(tmp_path, given, folder):
    key = SeriesKey.make("binance", "BTCUSDT", given)
    assert key.timeframe == folder
    assert str(key) == f"binance/BTCUSDT/{folder}"
    assert layout.series_dir(tmp_path, key) == tmp_path / "ohlcv" / "binance" / "BTCUSDT" / folder


def test_series_key_refuses_a_bad_timeframe():
    with pytest.raises(ConfigError, match="bad timeframe"):
        SeriesKey.make("binance", "BTCUSDT", "1M")


def test_month_path_pads_year_and_month(tmp_path):
    key = SeriesKey.make("dukascopy", "US500.cash", "1m")
    path = layout.month_path(tmp_path, key, 2024, 3)
    assert path == tmp_path / "ohlcv" / "dukascopy" / "US500.cash" / "1m" / "2024" / "03.parquet"
    assert path.is_relative_to(tmp_path)


def test_month_bounds_of_december_end_on_the_next_first_of_january():
    assert layout.month_bounds(2023, 12) == (ms("2023-12-01"), ms("2024-01-01"))
    assert layout.next_month(2023, 12) == (2024, 1)
    assert layout.next_month(2024, 1) == (2024, 2)


def test_month_bounds_know_leap_years():
    start, end = layout.month_bounds(2024, 2)
    assert (end - start) // 86_400_000 == 29
    start, end = layout.month_bounds(2023, 2)
    assert (end - start) // 86_400_000 == 28


def test_month_of_switches_exactly_at_midnight_utc():
    boundary = ms("2024-01-01")
    assert layout.month_of(boundary - 1) == (2023, 12)
    assert layout.month_of(boundary) == (2024, 1)
    assert layout.month_start_ms(2024, 1) == boundary


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2023-12-15", "2024-01-15", [(2023, 12), (2024, 1)]),
        # half-open: an end exactly on a month boundary does not touch that month
        ("2023-12-01", "2024-01-01", [(2023, 12)]),
        ("2023-12-31T23:59", "2024-01-01T00:00:00.001", [(2023, 12), (2024, 1)]),
        ("2023-11-30", "2024-02-02", [(2023, 11), (2023, 12), (2024, 1), (2024, 2)]),
        ("2024-05-10", "2024-05-10T00:00:00.001", [(2024, 5)]),
        ("2024-05-10", "2024-05-10", []),
        ("2024-05-10", "2024-05-01", []),
    ],
)
def test_months_between_lists_the_months_a_half_open_range_touches(start, end, months):
    assert layout.months_between(ms(start), ms(end)) == months


def test_existing_months_ignores_temp_files_strays_and_odd_folders(tmp_path):
    key = SeriesKey.make("binance", "BTCUSDT", "1h")
    base = layout.series_dir(tmp_path, key)
    for rel in [
        "2024/01.parquet",
        "2023/12.parquet",
        "2024/02.parquet.tmp-123-abcd",
        "2024/13.parquet",
        "2024/1.parquet",
        "2024/notes.txt",
        "24/03.parquet",
        "tmp/04.parquet",
    ]:
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(b"x")
    assert layout.existing_months(tmp_path, key) == [(2023, 12), (2024, 1)]


def test_existing_months_of_an_absent_series_is_empty(tmp_path):
    assert layout.existing_months(tmp_path, SeriesKey.make("a", "b", "1m")) == []


def test_list_series_skips_non_canonical_and_unsafe_folders(tmp_path):
    ohlcv = tmp_path / "ohlcv"
    for rel in [
        "binance/BTCUSDT/1m/2024/01.parquet",
        "binance/BTCUSDT/1h/_coverage.json",
        "binance/BTCUSDT/60m/2024/01.parquet",  # not the canonical name of 1h
        "binance/BTCUSDT/tmp/2024/01.parquet",  # not a timeframe
        "binance/bad name/1m/2024/01.parquet",
        "okx/ETH-USDT/4h/2024/01.parquet",
    ]:
        (ohlcv / rel).parent.mkdir(parents=True, exist_ok=True)
        (ohlcv / rel).write_bytes(b"x")
    (ohlcv / "stray.txt").write_text("not a source")
    assert [str(k) for k in layout.list_series(tmp_path)] == [
        "binance/BTCUSDT/1h",
        "binance/BTCUSDT/1m",
        "okx/ETH-USDT/4h",
    ]


def test_list_series_of_a_missing_lake_is_empty(tmp_path):
    assert layout.list_series(tmp_path / "nowhere") == []


def test_a_write_whose_every_row_is_refused_does_not_create_a_listed_series(lake):
    """list_series promises folders with a month file or a coverage record, not a bare lock."""
    refused = pd.DataFrame(
        {"open": [10.0], "high": [9.0], "low": [8.0], "close": [10.0], "volume": [1.0]},
        index=pd.DatetimeIndex(["2024-01-01"], name="time").tz_localize("UTC"),
    )
    result = lake.write("binance", "BTCUSDT", "1m", refused)
    assert result.rejected == {"high_below_open_close": 1}
    assert result.rows == 0
    assert lake.months(lake.key("binance", "BTCUSDT", "1m")) == []
    assert layout.list_series(lake.root) == []
