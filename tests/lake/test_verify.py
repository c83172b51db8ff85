"""verify finds what breaks a month file's promises; repair quarantines it and forgets coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from barlake.bars.derive import derive
from barlake.bars.schema import CORE_SCHEMA
from barlake.lake import layout
from barlake.lake.verify import verify
from barlake.timeframes import HOUR_MS
from spans import ms, span

SRC, INST = "binance", "BTCUSDT"


# The answered parts of each month in the fixtures below.
JAN_DATA = (ms("2024-01-31"), layout.month_bounds(2024, 2)[0])
FEB_DATA = (layout.month_bounds(2024, 2)[0], ms("2024-02-02"))


@pytest.fixture
def minutes(lake, walk):
    """1m from 2024-01-31 00:00 to 2024-02-02 00:00, all answered: two month files."""
    truth = walk("2024-01-31", 2 * 1440, seed=1)
    lake.write(SRC, INST, "1m", truth, covered=[span(truth)])
    return truth


@pytest.fixture
def filled(lake, minutes):
    """The same 1m plus derived 1h and an FX 1d (offset 17h)."""
    derive(lake, SRC, INST, "1h")
    derive(lake, SRC, INST, "1d", offset_ms=17 * HOUR_MS)
    return minutes


@pytest.fixture
def base_key(lake):
    return lake.key(SRC, INST, "1m")


def write_raw(path, columns: dict) -> None:
    """A month file written straight with pyarrow, bypassing every check barlake makes."""
    pq.write_table(pa.table(columns), path)


def raw_columns(frame: pd.DataFrame) -> dict:
    return {
        "timestamp_ms": pa.array(frame.index.as_unit("ms").asi8, pa.int64()),
        **{name: pa.array(frame[name].to_numpy(), pa.float64()) for name in CORE_SCHEMA.names[1:]},
    }


def test_a_clean_lake_has_no_problems(lake, filled):
    assert [str(k) for k in lake.series()] == [
        "binance/BTCUSDT/1d",
        "binance/BTCUSDT/1h",
        "binance/BTCUSDT/1m",
    ]
    assert len(lake.read(SRC, INST, "1d")) == 1  # 01-31 17:00 → 02-01 17:00
    assert verify(lake) == []
    assert verify(lake, repair=True) == []


def test_an_empty_or_missing_lake_has_no_problems(lake):
    assert verify(lake) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_an_unreadable_month_is_reported_and_repair_quarantines_it(lake, minutes, base_key, damage):
    path = lake.path(base_key, 2024, 2)
    body = path.read_bytes()
    broken = {
        "garbage": b"not a parquet file at all",
        "truncated": body[: len(body) // 2],
        "empty": b"",
    }
    path.write_bytes(broken[damage])

    found = verify(lake)
    assert len(found) == 1
    assert found[0].path == path
    assert found[0].what.startswith("unreadable")
    assert found[0].repaired == ""
    assert path.read_bytes() == broken[damage]  # reporting alone changes nothing
    assert lake.missing(base_key, *FEB_DATA) == []

    repaired = verify(lake, repair=True)

    assert [p.path for p in repaired] == [path]
    assert repaired[0].repaired.startswith("moved to _quarantine/ohlcv/binance/BTCUSDT/1m/2024/02.")
    assert repaired[0].repaired.endswith("coverage dropped")
    assert not path.exists()
    moved = list((lake.root / "_quarantine").rglob("*.parquet"))
    assert len(moved) == 1
    assert moved[0].parent == lake.root / "_quarantine/ohlcv/binance/BTCUSDT/1m/2024"
    assert moved[0].read_bytes() == broken[damage]
    assert lake.missing(base_key, *FEB_DATA) == [FEB_DATA]
    assert lake.missing(base_key, *JAN_DATA) == []  # January is untouched
    assert lake.months(base_key) == [(2024, 1)]
    assert verify(lake) == []


def test_a_month_with_unsorted_rows_is_reported(lake, minutes, base_key):
    path = lake.path(base_key, 2024, 1)
    jan = minutes.loc[:"2024-01-31 23:59"]
    write_raw(path, raw_columns(jan.iloc[::-1]))

    found = verify(lake)

    assert [(p.path, p.what) for p in found] == [(path, "timestamps are not sorted and unique")]


def test_a_month_with_duplicate_timestamps_is_reported(lake, minutes, base_key):
    path = lake.path(base_key, 2024, 1)
    jan = minutes.loc[:"2024-01-31 23:59"]
    write_raw(path, raw_columns(pd.concat([jan.iloc[:10], jan.iloc[9:]])))
    assert [p.what for p in verify(lake)] == ["timestamps are not sorted and unique"]


def test_a_month_with_ohlc_violations_is_reported_per_reason(lake, minutes, base_key):
    path = lake.path(base_key, 2024, 1)
    jan = minutes.loc[:"2024-01-31 23:59"].copy()
    jan.iloc[5, jan.columns.get_loc("high")] = jan["low"].iloc[5] - 1.0
    jan.iloc[6, jan.columns.get_loc("low")] = jan["high"].iloc[6] + 1.0
    jan.iloc[7, jan.columns.get_loc("volume")] = -1.0
    jan.iloc[8, jan.columns.get_loc("close")] = np.nan
    write_raw(path, raw_columns(jan))

    found = verify(lake)

    assert [p.what for p in found] == [
        "1 row(s) fail non_finite",
        "1 row(s) fail high_below_open_close",
        "1 row(s) fail low_above_open_close",
        "1 row(s) fail negative_volume",
    ]
    assert {p.path for p in found} == {path}


def test_repair_quarantines_a_month_with_several_problems_once(lake, minutes, base_key):
    path = lake.path(base_key, 2024, 1)
    jan = minutes.loc[:"2024-01-31 23:59"].copy()
    jan.iloc[5, jan.columns.get_loc("volume")] = -1.0
    jan.iloc[6, jan.columns.get_loc("high")] = 0.0
    write_raw(path, raw_columns(jan))

    found = verify(lake, repair=True)

    assert [bool(p.repaired) for p in found] == [False, True]
    assert not path.exists()
    assert len(list((lake.root / "_quarantine").rglob("01.*.parquet"))) == 1
    assert lake.missing(base_key, *JAN_DATA) == [JAN_DATA]
    assert lake.missing(base_key, *FEB_DATA) == []


def test_bars_in_the_wrong_month_or_off_the_grid_are_reported(lake, minutes, base_key):
    feb = minutes.loc["2024-02-01":]
    write_raw(lake.path(base_key, 2024, 1), raw_columns(feb))  # February's bars in 01.parquet
    shifted = raw_columns(feb)
    shifted["timestamp_ms"] = pa.array(feb.index.as_unit("ms").asi8 + 30_000, pa.int64())
    write_raw(lake.path(base_key, 2024, 2), shifted)

    found = {(p.path.name, p.what) for p in verify(lake)}

    assert ("01.parquet", "bars outside 2024-01") in found
    assert ("02.parquet", f"{len(feb)} row(s) fail misaligned") in found


def test_a_month_with_the_wrong_columns_is_reported(lake, minutes, base_key):
    jan = minutes.loc[:"2024-01-31 23:59"]
    columns = raw_columns(jan)
    columns["volume"] = pa.array(np.arange(len(jan)), pa.int64())
    write_raw(lake.path(base_key, 2024, 1), columns)
    assert [p.what for p in verify(lake)] == ["column volume is int64, not double"]

    write_raw(lake.path(base_key, 2024, 1), {"ts": columns["timestamp_ms"], "px": columns["open"]})
    assert [p.what for p in verify(lake)] == [
        "columns ['ts', 'px'] are not ['timestamp_ms', 'open', 'high', 'low', 'close', 'volume']"
    ]


def test_a_tampered_derived_month_is_reported_as_inconsistent_with_1m(lake, filled):
    key = lake.key(SRC, INST, "1h")
    path = lake.path(key, 2024, 2)
    table = pq.read_table(path)
    close = table.column("close").to_numpy().copy()
    low = table.column("low").to_numpy()
    row = int(np.flatnonzero(close != low)[0])
    close[row] = low[row]  # still a sane bar, just not what the 1m bars say
    pq.write_table(table.set_column(4, "close", pa.array(close)), path)

    found = verify(lake)

    assert [(p.path, p.what) for p in found] == [
        (path, "column close differs from the 1m bars; re-derive (barlake derive --rebuild)")
    ]
    repaired = verify(lake, repair=True)
    assert [p.path for p in repaired] == [path]
    assert not path.exists()
    assert lake.missing(key, *FEB_DATA) == [FEB_DATA]

    derive(lake, SRC, INST, "1h")
    assert verify(lake) == []
    assert len(lake.read(SRC, INST, "1h", "2024-02-01")) == 24


def test_a_derived_bar_with_no_1m_behind_it_is_reported(lake, filled):
    key = lake.key(SRC, INST, "1h")
    path = lake.path(key, 2024, 2)
    table = pq.read_table(path)
    stray = table.slice(0, 1).set_column(
        0, "timestamp_ms", pa.array([ms("2024-02-20")], pa.int64())
    )
    pq.write_table(pa.concat_tables([table, stray]), path)

    assert [p.what for p in verify(lake)] == [
        "1 derived bar(s) have no 1m bars behind them; re-derive"
    ]


def test_a_derived_month_goes_stale_when_its_1m_is_corrected(lake, filled, base_key):
    fixed = filled.loc["2024-02-01 05:00":"2024-02-01 05:02"].copy()
    fixed["volume"] += 10.0
    lake.write(SRC, INST, "1m", fixed, covered=[span(fixed)])

    found = verify(lake)

    hour_path = lake.path(lake.key(SRC, INST, "1h"), 2024, 2)
    day_path = lake.path(lake.key(SRC, INST, "1d"), 2024, 1)
    assert {(p.path, p.what.split(";")[0]) for p in found} == {
        (hour_path, "column volume differs from the 1m bars"),
        (day_path, "column volume differs from the 1m bars"),
    }
    derive(lake, SRC, INST, "1h")
    derive(lake, SRC, INST, "1d", offset_ms=17 * HOUR_MS)
    assert verify(lake) == []


def test_a_stale_temp_file_is_reported_and_removed_on_repair(lake, filled, base_key):
    month = lake.path(base_key, 2024, 1)
    before = month.read_bytes()
    stale = month.with_name("01.parquet.tmp-4242-deadbeef")
    stale.write_bytes(b"half a file")
    coverage = lake.coverage(base_key).answered

    found = verify(lake)
    assert [(p.path, p.what, p.repaired) for p in found] == [
        (stale, "temp file left by an interrupted writer", "")
    ]
    assert stale.exists()

    found = verify(lake, repair=True)
    assert [(p.path, p.repaired) for p in found] == [(stale, "removed")]
    assert not stale.exists()
    assert month.read_bytes() == before
    assert lake.coverage(base_key).answered == coverage
    assert verify(lake) == []


def test_problem_prints_as_one_line_with_the_repair(lake, minutes, base_key):
    path = lake.path(base_key, 2024, 2)
    path.write_bytes(b"junk")
    (problem,) = verify(lake, repair=True)
    text = str(problem)
    assert text.startswith(f"{path}: unreadable")
    assert " → moved to _quarantine/" in text
    assert "\n" not in text


@pytest.mark.parametrize("damage", ["garbage", "unsorted"])
def test_a_broken_1m_month_is_reported_even_when_derived_series_lean_on_it(
    lake, filled, base_key, damage
):
    path = lake.path(base_key, 2024, 2)
    if damage == "garbage":
        path.write_bytes(b"not a parquet file at all")
    else:
        write_raw(path, raw_columns(filled.loc["2024-02-01":].iloc[::-1]))
    expected = "unreadable" if damage == "garbage" else "timestamps are not sorted and unique"

    found = verify(lake)

    mine = [p.what for p in found if p.path == path]
    assert len(mine) == 1
    assert mine[0].startswith(expected)
    repaired = verify(lake, repair=True)
    assert path in {p.path for p in repaired}
    assert not path.exists()
    assert lake.missing(base_key, *FEB_DATA) == [FEB_DATA]


def test_repairing_one_month_of_an_offset_series_leaves_its_other_months_valid(lake, walk):
    truth = walk("2024-01-29", 6 * 1440, seed=2)  # 01-29 → 02-04: FX days in both months
    lake.write(SRC, INST, "1m", truth, covered=[span(truth)])
    derive(lake, SRC, INST, "1d", offset_ms=17 * HOUR_MS)
    key = lake.key(SRC, INST, "1d")
    assert lake.months(key) == [(2024, 1), (2024, 2)]
    jan = lake.path(key, 2024, 1)
    table = pq.read_table(jan)
    pq.write_table(table.set_column(5, "volume", pa.array([0.0] * table.num_rows)), jan)

    first = verify(lake, repair=True)
    assert [(p.path, p.what.split(";")[0]) for p in first] == [
        (jan, "column volume differs from the 1m bars")
    ]

    # February's bars are still the 17:00 ones derive wrote: nothing about them is wrong.
    assert verify(lake) == []
    assert lake.months(key) == [(2024, 2)]
