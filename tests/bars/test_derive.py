"""Deriving coarser bars over a real lake: pandas-equal, whole buckets only, incremental."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from barlake.bars.derive import derive, derive_all, derived_offset
from barlake.errors import ConfigError
from barlake.lake import intervals as iv
from barlake.lake import layout
from barlake.lake.verify import quarantine, verify
from barlake.timeframes import HOUR_MS, bucket_anchor, parse_timeframe
from spans import ms, span

SRC, INST = "binance", "BTCUSDT"
HOW = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def put(lake, frame: pd.DataFrame, covered: list[tuple[int, int]] | None = None, inst=INST):
    """Store 1m bars; unless told otherwise the whole span of the frame is answered."""
    lake.write(SRC, inst, "1m", frame, covered=[span(frame)] if covered is None else covered)


def drop_minutes(frame: pd.DataFrame, seed: int, share: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return frame[rng.random(len(frame)) >= share]


def expected_bars(frame, timeframe, covered, offset_ms=0) -> pd.DataFrame:
    """pandas on the lake's grid, empty buckets dropped, only buckets wholly inside `covered`."""
    tf = parse_timeframe(timeframe)
    origin = pd.Timestamp(bucket_anchor(tf, offset_ms), unit="ms", tz="UTC")
    out = (
        frame.resample(pd.Timedelta(milliseconds=tf), label="left", closed="left", origin=origin)
        .agg(HOW)
        .dropna()
    )
    starts = out.index.as_unit("ms").asi8
    out = out[[iv.covers(covered, int(s), int(s) + tf) for s in starts]]
    return normalized(out)


def normalized(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[list(HOW)].copy()
    frame.index = pd.DatetimeIndex(frame.index.as_unit("ms"), name="time", freq=None)
    return frame


def derived(lake, timeframe: str, inst=INST) -> pd.DataFrame:
    return normalized(lake.read(SRC, inst, timeframe))


def stamp(path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


# 1m truth from Tue 2024-01-30 00:00 to Thu 2024-02-01 13:37 (mid-bucket for every timeframe),
# with 3% of the minutes missing but answered (known empty).
EDGE_START, EDGE_MINUTES = "2024-01-30", 2 * 1440 + 13 * 60 + 37


@pytest.mark.parametrize(
    ("timeframe", "first", "last"),
    [
        ("5m", "2024-01-30T00:00", "2024-02-01T13:30"),
        ("1h", "2024-01-30T00:00", "2024-02-01T12:00"),
        ("4h", "2024-01-30T00:00", "2024-02-01T08:00"),
        ("1d", "2024-01-30T00:00", "2024-01-31T00:00"),
    ],
)
def test_derived_bars_equal_pandas_on_complete_buckets(lake, walk, timeframe, first, last):
    truth = walk(EDGE_START, EDGE_MINUTES, seed=1)
    covered = [span(truth)]
    stored = drop_minutes(truth, seed=2, share=0.03)
    put(lake, stored, covered)

    result = derive(lake, SRC, INST, timeframe)

    want = expected_bars(stored, timeframe, covered)
    got = derived(lake, timeframe)
    pd.testing.assert_frame_equal(got, want)
    assert got.index[0] == pd.Timestamp(first, tz="UTC")
    assert got.index[-1] == pd.Timestamp(last, tz="UTC")  # the bucket still forming is absent
    assert result.bars == len(want)
    assert result.months_recomputed == 2
    assert result.offset_ms == 0


def test_the_open_edge_bucket_is_written_once_later_minutes_arrive(lake, walk):
    truth = walk(EDGE_START, 3 * 1440, seed=3)
    first_part = truth.iloc[:EDGE_MINUTES]
    put(lake, first_part)
    derive(lake, SRC, INST, "1d")
    assert list(derived(lake, "1d").index.day) == [30, 31]

    put(lake, truth.iloc[EDGE_MINUTES:])
    result = derive(lake, SRC, INST, "1d")

    got = derived(lake, "1d")
    pd.testing.assert_frame_equal(got, expected_bars(truth, "1d", [span(truth)]))
    assert list(got.index.strftime("%m-%d")) == ["01-30", "01-31", "02-01"]
    assert got.loc["2024-02-01", "open"].item() == truth.loc["2024-02-01 00:00", "open"]
    assert got.loc["2024-02-01", "close"].item() == truth.loc["2024-02-01 23:59", "close"]
    assert result.months_recomputed == 1  # only February's 1m month changed


def test_a_bucket_with_a_coverage_hole_is_not_written_until_the_hole_is_answered(lake, walk):
    truth = walk("2024-03-04", 2 * 1440, seed=4)
    hole = (ms("2024-03-04T10:00"), ms("2024-03-04T10:30"))
    outside = (truth.index < "2024-03-04 10:00") | (truth.index >= "2024-03-04 10:30")
    start, end = span(truth)
    covered = [(start, hole[0]), (hole[1], end)]
    put(lake, truth[outside], covered)

    derive(lake, SRC, INST, "1h")
    derive(lake, SRC, INST, "1d")

    hours = derived(lake, "1h")
    assert pd.Timestamp("2024-03-04 10:00", tz="UTC") not in hours.index
    assert len(hours) == 47
    pd.testing.assert_frame_equal(hours, expected_bars(truth[outside], "1h", covered))
    assert list(derived(lake, "1d").index.strftime("%m-%d")) == ["03-05"]

    # The source is asked about the hole and answers "no bars": now the buckets are whole.
    lake.add_coverage(lake.key(SRC, INST, "1m"), [hole])
    assert derive(lake, SRC, INST, "1h").months_recomputed == 1
    derive(lake, SRC, INST, "1d")
    hours = derived(lake, "1h")
    assert len(hours) == 48
    ten = truth[outside].loc["2024-03-04 10:30":"2024-03-04 10:59"]
    assert hours.loc["2024-03-04 10:00", "open"].item() == ten["open"].iloc[0]
    assert hours.loc["2024-03-04 10:00", "volume"].item() == ten["volume"].sum()
    assert list(derived(lake, "1d").index.strftime("%m-%d")) == ["03-04", "03-05"]


def test_a_bucket_whose_missing_minutes_are_known_empty_is_written(lake, walk):
    truth = walk("2024-03-04", 1440, seed=5)
    quiet = truth[(truth.index < "2024-03-04 10:00") | (truth.index >= "2024-03-04 10:30")]
    put(lake, quiet, [span(truth)])

    derive(lake, SRC, INST, "1h")
    derive(lake, SRC, INST, "1d")

    hours = derived(lake, "1h")
    assert len(hours) == 24
    pd.testing.assert_frame_equal(hours, expected_bars(quiet, "1h", [span(truth)]))
    assert hours.loc["2024-03-04 10:00", "open"].item() == truth.loc["2024-03-04 10:30", "open"]
    day = derived(lake, "1d")
    assert day["high"].tolist() == [quiet["high"].max()]
    assert day["volume"].tolist() == [quiet["volume"].sum()]


def test_derived_coverage_is_exactly_the_complete_buckets(lake, walk):
    truth = walk("2024-03-04T00:07", 2 * 1440 - 17, seed=6)  # 03-04 00:07 → 03-05 23:50
    gap = (truth.index >= "2024-03-04 10:00") & (truth.index < "2024-03-04 10:30")
    start, end = span(truth)
    covered = [(start, ms("2024-03-04T10:00")), (ms("2024-03-04T10:30"), end)]
    put(lake, truth[~gap], covered)

    derive(lake, SRC, INST, "1h")
    derive(lake, SRC, INST, "1d")

    hour_key, day_key = lake.key(SRC, INST, "1h"), lake.key(SRC, INST, "1d")
    assert lake.coverage(hour_key).answered == [
        (ms("2024-03-04T01:00"), ms("2024-03-04T10:00")),
        (ms("2024-03-04T11:00"), ms("2024-03-05T23:00")),
    ]
    hours = lake.timestamps(hour_key)
    assert hours.tolist() == list(
        range(ms("2024-03-04T01:00"), ms("2024-03-04T10:00"), HOUR_MS)
    ) + list(range(ms("2024-03-04T11:00"), ms("2024-03-05T23:00"), HOUR_MS))
    # neither day is whole: no daily bar and no daily coverage
    assert lake.coverage(day_key).answered == []
    assert lake.timestamps(day_key).tolist() == []
    assert lake.missing(hour_key, ms("2024-03-04"), ms("2024-03-06")) == [
        (ms("2024-03-04T00:00"), ms("2024-03-04T01:00")),
        (ms("2024-03-04T10:00"), ms("2024-03-04T11:00")),
        (ms("2024-03-05T23:00"), ms("2024-03-06T00:00")),
    ]


def test_rerun_with_nothing_changed_recomputes_nothing_and_one_new_day_recomputes_one_month(
    lake, walk
):
    days = {m: walk(f"2024-{m:02d}-10", 2 * 1440, seed=m) for m in (1, 2, 3)}
    for frame in days.values():
        put(lake, frame)
    key = lake.key(SRC, INST, "1h")

    first = derive(lake, SRC, INST, "1h")
    assert first.months_recomputed == 3
    assert first.bars == 3 * 48
    before = {m: stamp(lake.path(key, 2024, m)) for m in (1, 2, 3)}

    again = derive(lake, SRC, INST, "1h")
    assert (again.months_recomputed, again.bars, again.skipped_months) == (0, 0, 3)
    assert {m: stamp(lake.path(key, 2024, m)) for m in (1, 2, 3)} == before

    extra = walk("2024-02-12", 1440, seed=9)
    put(lake, extra)
    third = derive(lake, SRC, INST, "1h")

    assert third.months_recomputed == 1
    assert third.ranges == [layout.month_bounds(2024, 2)]
    assert stamp(lake.path(key, 2024, 1)) == before[1]
    assert stamp(lake.path(key, 2024, 3)) == before[3]
    assert stamp(lake.path(key, 2024, 2)) != before[2]
    feb = pd.concat([days[2], extra])
    got = normalized(lake.read(SRC, INST, "1h", "2024-02-01", "2024-03-01"))
    pd.testing.assert_frame_equal(got, expected_bars(feb, "1h", [span(feb)]))
    assert len(got) == 72


def test_a_corrected_minute_changes_the_derived_bar_on_rederive(lake, walk):
    truth = walk("2024-03-04", 1440, seed=7)
    put(lake, truth)
    derive(lake, SRC, INST, "1h")
    old = derived(lake, "1h")

    fixed = truth.loc["2024-03-04 10:00":"2024-03-04 10:04"].copy()
    fixed["high"] = fixed["high"] * 1.05
    fixed["close"] = fixed["high"]
    fixed["volume"] = 1000.0
    put(lake, fixed)
    result = derive(lake, SRC, INST, "1h")

    corrected = truth.copy()
    corrected.loc[fixed.index] = fixed
    got = derived(lake, "1h")
    assert result.months_recomputed == 1
    pd.testing.assert_frame_equal(got, expected_bars(corrected, "1h", [span(truth)]))
    ten = pd.Timestamp("2024-03-04 10:00", tz="UTC")
    assert got.loc[ten, "high"] == fixed["high"].max() != old.loc[ten, "high"]
    assert got.drop(index=ten).equals(old.drop(index=ten))


def test_weekly_bars_open_on_monday(lake, walk):
    # Wed 2024-01-03 → Wed 2024-01-31, one bar per hour, every minute answered.
    sparse = walk("2024-01-03", 28 * 1440, seed=8).iloc[::60]
    covered = [(ms("2024-01-03"), ms("2024-01-31"))]
    put(lake, sparse, covered)

    derive(lake, SRC, INST, "1w")

    got = derived(lake, "1w")
    assert list(got.index.strftime("%Y-%m-%d")) == ["2024-01-08", "2024-01-15", "2024-01-22"]
    assert set(got.index.day_name()) == {"Monday"}
    pd.testing.assert_frame_equal(got, expected_bars(sparse, "1w", covered))


def test_an_fx_day_offset_opens_buckets_at_1700_and_is_recorded(lake, walk):
    truth = walk("2024-01-02", 4 * 1440, seed=10)
    put(lake, truth)
    offset = 17 * HOUR_MS
    key = lake.key(SRC, INST, "1d")

    result = derive(lake, SRC, INST, "1d", offset_ms=offset)

    got = derived(lake, "1d")
    assert result.offset_ms == offset
    assert list(got.index.strftime("%m-%d %H:%M")) == ["01-02 17:00", "01-03 17:00", "01-04 17:00"]
    pd.testing.assert_frame_equal(got, expected_bars(truth, "1d", [span(truth)], offset))
    assert derived_offset(lake, key) == offset
    state = json.loads((layout.series_dir(lake.root, key) / layout.DERIVE_FILE).read_text())
    assert state["offset_ms"] == offset
    assert state["timeframe"] == "1d"
    assert verify(lake) == []


def test_deriving_again_with_another_offset_needs_rebuild(lake, walk):
    truth = walk("2024-01-02", 4 * 1440, seed=10)
    put(lake, truth)
    derive(lake, SRC, INST, "1d", offset_ms=17 * HOUR_MS)
    before = derived(lake, "1d")

    with pytest.raises(ConfigError, match="rebuild"):
        derive(lake, SRC, INST, "1d")
    pd.testing.assert_frame_equal(derived(lake, "1d"), before)

    result = derive(lake, SRC, INST, "1d", rebuild=True)

    got = derived(lake, "1d")
    assert result.offset_ms == 0
    assert list(got.index.strftime("%m-%d %H:%M")) == [
        "01-02 00:00",
        "01-03 00:00",
        "01-04 00:00",
        "01-05 00:00",
    ]
    pd.testing.assert_frame_equal(got, expected_bars(truth, "1d", [span(truth)]))
    assert derived_offset(lake, lake.key(SRC, INST, "1d")) == 0
    assert lake.coverage(lake.key(SRC, INST, "1d")).answered == [
        (ms("2024-01-02"), ms("2024-01-06"))
    ]


def test_derive_all_picks_instruments_by_regex(lake, walk):
    for i, inst in enumerate(["BTCUSDT", "ETHUSDT", "EURUSD"]):
        put(lake, walk("2024-03-04", 180, seed=20 + i, price=10.0 + i), inst=inst)

    results = derive_all(lake, ["60m", "15m"], instrument="(BTC|ETH)USDT")

    assert [str(r.key) for r in results] == [
        "binance/BTCUSDT/1h",
        "binance/BTCUSDT/15m",
        "binance/ETHUSDT/1h",
        "binance/ETHUSDT/15m",
    ]
    assert [r.bars for r in results] == [3, 12, 3, 12]
    assert lake.months(lake.key(SRC, "EURUSD", "1h")) == []
    eth = lake.read(SRC, "ETHUSDT", "1h")
    assert eth["open"].iloc[0] == lake.read(SRC, "ETHUSDT", "1m")["open"].iloc[0]


def test_derive_all_regex_must_match_the_whole_name(lake, walk):
    put(lake, walk("2024-03-04", 60, seed=1), inst="BTCUSDT")
    with pytest.raises(ConfigError, match="no 1m series match"):
        derive_all(lake, ["1h"], instrument="BTC")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeframes": ["1h"], "instrument": "(BTC"}, "bad --instrument regex"),
        ({"timeframes": ["1h", "1x"]}, "bad timeframe"),
        ({"timeframes": ["1h"], "source": "okx"}, "no 1m series match"),
    ],
)
def test_derive_all_refuses_bad_input_before_writing_anything(lake, walk, kwargs, message):
    put(lake, walk("2024-03-04", 120, seed=1))
    with pytest.raises(ConfigError, match=message):
        derive_all(lake, **kwargs)
    assert [str(k) for k in lake.series()] == ["binance/BTCUSDT/1m"]


@pytest.mark.parametrize("timeframe", ["1m", "60s", "1M"])
def test_derive_refuses_timeframes_that_are_not_longer_than_1m(lake, walk, timeframe):
    put(lake, walk("2024-03-04", 60, seed=1))
    with pytest.raises(ConfigError):
        derive(lake, SRC, INST, timeframe)


def test_a_1m_month_that_is_quarantined_takes_its_derived_bars_away(lake, walk):
    jan = walk("2024-01-30", 2 * 1440, seed=11)  # ends 2024-02-01 00:00
    feb = walk("2024-02-05", 1440, seed=12)
    put(lake, jan)
    put(lake, feb)
    derive(lake, SRC, INST, "1h")
    assert len(lake.read(SRC, INST, "1h", "2024-02-01", "2024-03-01")) == 24

    quarantine(lake, lake.key(SRC, INST, "1m"), 2024, 2)
    derive(lake, SRC, INST, "1h")

    assert lake.read(SRC, INST, "1h", "2024-02-01", "2024-03-01").empty
    pd.testing.assert_frame_equal(derived(lake, "1h"), expected_bars(jan, "1h", [span(jan)]))
    assert verify(lake) == []


def test_extending_the_last_month_leaves_earlier_derived_months_alone(lake, walk):
    put(lake, walk("2024-01-10", 1440, seed=13))
    morning = walk("2024-02-10", 600, seed=14)  # 00:00 → 10:00
    put(lake, morning)
    key = lake.key(SRC, INST, "4h")
    derive(lake, SRC, INST, "4h")
    january = stamp(lake.path(key, 2024, 1))
    assert list(lake.read(SRC, INST, "4h", "2024-02-01").index.hour) == [0, 4]

    evening = walk("2024-02-10T10:00", 600, seed=15)  # 10:00 → 20:00
    put(lake, evening)
    result = derive(lake, SRC, INST, "4h")

    day = pd.concat([morning, evening])
    assert result.months_recomputed == 1
    assert stamp(lake.path(key, 2024, 1)) == january
    got = normalized(lake.read(SRC, INST, "4h", "2024-02-01"))
    assert list(got.index.hour) == [0, 4, 8, 12, 16]
    pd.testing.assert_frame_equal(got, expected_bars(day, "4h", [span(day)]))
