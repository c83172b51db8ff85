"""The store: schema on disk, validation, merge semantics, ranges, coverage."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import barlake
from barlake import ConfigError, CorruptFileError, Lake


def bars(start: str, n: int, level: float = 100.0, freq: str = "1min") -> pd.DataFrame:
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    close = level + np.arange(n, dtype=float)
    return pd.DataFrame(
        {"open": close - 0.5, "high": close + 1, "low": close - 1, "close": close, "volume": 2.0},
        index=index,
    )


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def test_month_files_follow_the_documented_schema_and_path(tmp_path):
    Lake(tmp_path).write("binance", "BTCUSDT", "1m", bars("2024-01-31 23:58", 4))
    jan = tmp_path / "ohlcv/binance/BTCUSDT/1m/2024/01.parquet"
    feb = tmp_path / "ohlcv/binance/BTCUSDT/1m/2024/02.parquet"
    table = pq.read_table(jan)
    assert table.schema.names == ["timestamp_ms", "open", "high", "low", "close", "volume"]
    assert table.schema.field("timestamp_ms").type == pa.int64()
    assert all(table.schema.field(c).type == pa.float64() for c in table.schema.names[1:])
    assert table.column("timestamp_ms").to_pylist() == [
        ms("2024-01-31 23:58"),
        ms("2024-01-31 23:59"),
    ]
    assert pq.ParquetFile(jan).metadata.row_group(0).column(0).compression == "ZSTD"
    assert pd.read_parquet(feb)["close"].tolist() == [102.0, 103.0]
    count = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{feb}')").fetchall()
    assert count == [(2,)]


def test_bad_rows_are_rejected_and_counted_never_stored(tmp_path):
    frame = bars("2024-01-01", 6)
    frame.iloc[0, frame.columns.get_loc("close")] = np.nan
    frame.iloc[1, frame.columns.get_loc("high")] = frame["open"].iloc[1] - 5  # high < open
    frame.iloc[2, frame.columns.get_loc("low")] = frame["close"].iloc[2] + 5  # low > close
    frame.iloc[3, frame.columns.get_loc("volume")] = -1.0
    frame.index = frame.index.where(np.arange(6) != 4, frame.index[4] + pd.Timedelta(seconds=7))
    result = Lake(tmp_path).write("s", "X", "1m", frame)
    assert result.rejected == {
        "non_finite": 1,
        "high_below_open_close": 1,
        "low_above_open_close": 1,
        "negative_volume": 1,
        "misaligned": 1,
    }
    stored = Lake(tmp_path).read("s", "X", "1m")
    assert stored.index.equals(frame.index[5:])


def test_duplicates_in_a_batch_keep_the_last_row(tmp_path):
    frame = pd.concat([bars("2024-01-01", 3, 100.0), bars("2024-01-01 00:01", 1, 500.0)])
    result = Lake(tmp_path).write("s", "X", "1m", frame)
    assert result.duplicates == 1
    stored = Lake(tmp_path).read("s", "X", "1m")
    assert stored["close"].tolist() == [100.0, 500.0, 102.0]


def test_merging_replaces_same_timestamps_and_keeps_the_rest(tmp_path):
    lake = Lake(tmp_path)
    lake.write("s", "X", "1m", bars("2024-01-01", 10, 100.0))
    lake.write("s", "X", "1m", bars("2024-01-01 00:05", 10, 900.0))
    stored = lake.read("s", "X", "1m")
    assert len(stored) == 15
    assert stored["close"].iloc[:5].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert stored["close"].iloc[5:].tolist() == [900.0 + i for i in range(10)]


def test_extra_columns_are_kept_after_the_core_ones(tmp_path):
    frame = bars("2024-01-01", 3)
    frame["trades"] = np.array([5, 6, 7])
    frame["quote_volume"] = [1.5, 2.5, 3.5]
    lake = Lake(tmp_path)
    lake.write("s", "X", "1m", frame)
    table = lake.read_arrow("s", "X", "1m")
    assert table.schema.names[6:] == ["trades", "quote_volume"]
    assert table.schema.field("trades").type == pa.int64()
    assert table.column("trades").to_pylist() == [5, 6, 7]


def test_read_is_half_open_and_accepts_strings_datetimes_and_timestamps(tmp_path):
    lake = Lake(tmp_path)
    lake.write("s", "X", "1h", bars("2024-01-30", 72, freq="1h"))
    by_text = lake.read("s", "X", "1h", "2024-01-31", "2024-02-01T02:00")
    naive = datetime(2024, 1, 31), datetime(2024, 2, 1, 2)  # noqa: DTZ001 - naive means UTC
    by_datetime = lake.read("s", "X", "1h", *naive)
    by_stamp = barlake.read(
        "s",
        "X",
        "1h",
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-02-01 03:00+01:00"),
        lake=tmp_path,
    )
    assert by_text.index[0] == pd.Timestamp("2024-01-31", tz="UTC")
    assert by_text.index[-1] == pd.Timestamp("2024-02-01 01:00", tz="UTC")
    assert len(by_text) == 26
    assert by_text.equals(by_datetime) and by_text.equals(by_stamp)
    assert by_text.index.name == "time" and str(by_text.index.tz) == "UTC"
    assert list(by_text.dtypes) == [np.float64] * 5


def test_read_arrow_returns_the_lake_shape(tmp_path):
    Lake(tmp_path).write("s", "X", "1m", bars("2024-01-01", 5))
    table = barlake.read_arrow(
        "s", "X", "1m", "2024-01-01 00:01", "2024-01-01 00:03", lake=tmp_path
    )
    assert table.column("timestamp_ms").to_pylist() == [
        ms("2024-01-01 00:01"),
        ms("2024-01-01 00:02"),
    ]


def test_lake_location_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv("BARLAKE_LAKE", str(tmp_path / "envlake"))
    Lake().write("s", "X", "1m", bars("2024-01-01", 2))
    assert (tmp_path / "envlake/ohlcv/s/X/1m/2024/01.parquet").exists()
    monkeypatch.delenv("BARLAKE_LAKE")
    monkeypatch.chdir(tmp_path)
    assert Lake().root.resolve() == (tmp_path / "data").resolve()


@pytest.mark.parametrize("name", ["../x", "", "a/b", "..", "a b"])
def test_unsafe_names_are_refused_before_anything_is_written(tmp_path, name):
    with pytest.raises(ConfigError, match="name"):
        Lake(tmp_path).write("s", name, "1m", bars("2024-01-01", 2))
    assert not (tmp_path / "ohlcv").exists() or not any((tmp_path / "ohlcv").rglob("*.parquet"))


def test_bad_dates_and_empty_ranges_are_refused(tmp_path):
    lake = Lake(tmp_path)
    with pytest.raises(ConfigError, match="bad start"):
        lake.read("s", "X", "1m", "yesterday-ish")
    with pytest.raises(ConfigError, match="not before end"):
        lake.read("s", "X", "1m", "2024-02-01", "2024-01-01")
    with pytest.raises(ConfigError, match="out of range"):
        lake.read("s", "X", "1m", "9999-01-01")


def test_coverage_tells_known_empty_from_missing(tmp_path):
    lake = Lake(tmp_path)
    frame = bars("2024-01-01", 120).drop(bars("2024-01-01 00:30", 30).index)
    lake.write("s", "X", "1m", frame, covered=[(ms("2024-01-01"), ms("2024-01-01 02:00"))])
    key = lake.key("s", "X", "1m")
    lo, hi = ms("2024-01-01"), ms("2024-01-01 03:00")
    assert lake.known_empty(key, lo, hi) == [(ms("2024-01-01 00:30"), ms("2024-01-01 01:00"))]
    assert lake.missing(key, lo, hi) == [(ms("2024-01-01 02:00"), hi)]


def test_rejected_bars_are_not_recorded_as_covered(tmp_path):
    lake = Lake(tmp_path)
    frame = bars("2024-01-01", 10)
    frame.iloc[4, frame.columns.get_loc("volume")] = -3.0
    lake.write("s", "X", "1m", frame, covered=[(ms("2024-01-01"), ms("2024-01-01 00:10"))])
    key = lake.key("s", "X", "1m")
    gap = (ms("2024-01-01 00:04"), ms("2024-01-01 00:05"))
    assert lake.missing(key, ms("2024-01-01"), ms("2024-01-01 00:10")) == [gap]
    assert lake.known_empty(key, ms("2024-01-01"), ms("2024-01-01 00:10")) == []


def test_a_corrupt_month_is_reported_and_never_overwritten(tmp_path):
    lake = Lake(tmp_path)
    lake.write("s", "X", "1m", bars("2024-01-01", 5))
    path = lake.path(lake.key("s", "X", "1m"), 2024, 1)
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(CorruptFileError, match="verify --repair"):
        lake.read("s", "X", "1m")
    with pytest.raises(CorruptFileError):
        lake.write("s", "X", "1m", bars("2024-01-02", 5))
    assert path.read_bytes() == b"PAR1 not really"


def test_merging_a_day_rewrites_only_that_month(tmp_path):
    lake = Lake(tmp_path)
    lake.write("s", "X", "1h", bars("2023-01-01", 24 * 365, freq="1h"))
    key = lake.key("s", "X", "1h")
    before = {m: lake.path(key, *m).stat().st_mtime_ns for m in lake.months(key)}
    result = lake.write("s", "X", "1h", bars("2023-06-10", 24, 5000.0, freq="1h"))
    assert result.months == [(2023, 6)]
    after = {m: lake.path(key, *m).stat().st_mtime_ns for m in lake.months(key)}
    assert [m for m in before if before[m] != after[m]] == [(2023, 6)]


def test_numpy_integers_are_epoch_milliseconds_like_python_ints(tmp_path):
    Lake(tmp_path).write("s", "X", "1m", bars("2024-01-01", 5))
    start = np.int64(ms("2024-01-01 00:03"))
    frame = barlake.read("s", "X", "1m", start=start, lake=tmp_path)
    assert frame.index[0] == pd.Timestamp("2024-01-01 00:03", tz="UTC")
    assert len(frame) == 2
