"""Resampling agrees with pandas on gappy minute bars, and keeps the lake's bucket rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barlake.bars.frame import table_to_frame
from barlake.bars.resample import resample, resample_table
from barlake.errors import ConfigError, DataError
from barlake.timeframes import MINUTE_MS, bucket_anchor, parse_offset, parse_timeframe

HOW = {
    "open": "first",
    "high": "max",
    "low": "min",
    "close": "last",
    "volume": "sum",
    "trades": "sum",
    "vwap": "last",
}
EPOCH_2020_MS = 1_577_836_800_000  # Wednesday 2020-01-01 00:00 UTC


def minute_bars(seed: int, rows: int, start_ms: int, gap_rate: float, max_gap: int) -> pd.DataFrame:
    """Random-walk 1m bars; a fraction of steps skip 1..max_gap minutes (missing bars).

    Volumes sit on a 1/8 grid so every sum is exact whatever the order of addition,
    which lets the tests demand equality instead of a tolerance.
    """
    rng = np.random.default_rng(seed)
    steps = np.where(rng.random(rows) < gap_rate, rng.integers(2, max_gap + 2, rows), 1)
    stamps = start_ms + (np.cumsum(steps) - steps[0]) * MINUTE_MS
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 2e-3, rows)))
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + rng.random(rows),
            "low": np.minimum(open_, close) - rng.random(rows),
            "close": close,
            "volume": rng.integers(0, 8_000, rows) / 8.0,
            "trades": rng.integers(0, 500, rows),
            "vwap": (open_ + close) / 2.0,
        },
        index=pd.DatetimeIndex(stamps.astype("datetime64[ms]"), name="time").tz_localize("UTC"),
    )


def pandas_resample(frame: pd.DataFrame, timeframe: str, offset: str | None) -> pd.DataFrame:
    """The reference: pandas on the same grid (epoch origin, Monday for weeks), empties dropped."""
    tf_ms, offset_ms = parse_timeframe(timeframe), parse_offset(offset)
    resampler = frame.resample(
        pd.Timedelta(milliseconds=tf_ms),
        label="left",
        closed="left",
        origin=pd.Timestamp(bucket_anchor(tf_ms), unit="ms", tz="UTC"),
        offset=pd.Timedelta(milliseconds=offset_ms),
    )
    expected = resampler.agg({name: HOW[name] for name in frame.columns}).dropna()
    expected.index.freq = None
    return expected.astype(frame.dtypes.to_dict())


gappy_series = st.builds(
    minute_bars,
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 3_000),
    start_ms=st.sampled_from([EPOCH_2020_MS, -3 * 86_400_000]).flatmap(
        lambda base: st.integers(base, base + 20_000 * MINUTE_MS).map(
            lambda ms: ms - ms % MINUTE_MS
        )
    ),
    gap_rate=st.sampled_from([0.0, 0.05, 0.3, 0.9]),
    max_gap=st.sampled_from([1, 30, 3 * 1_440]),
)


@settings(max_examples=60, deadline=None)
@given(
    frame=gappy_series,
    timeframe=st.sampled_from(["5m", "15m", "1h", "4h", "1d", "1w"]),
    offset=st.sampled_from([None, "2m", "30m", "17h", "-7h"]),
)
def test_resample_equals_pandas_on_gappy_minute_bars(frame, timeframe, offset):
    got = resample(frame, timeframe, offset)
    pd.testing.assert_frame_equal(got, pandas_resample(frame, timeframe, offset), rtol=0, atol=0)


@settings(max_examples=30, deadline=None)
@given(frame=gappy_series, offset=st.sampled_from([None, "17h", "-7h"]))
def test_five_minute_then_hourly_equals_hourly_directly(frame, offset):
    via_five = resample(resample(frame, "5m", offset), "1h", offset)
    pd.testing.assert_frame_equal(via_five, resample(frame, "1h", offset), rtol=0, atol=0)


@settings(max_examples=30, deadline=None)
@given(frame=gappy_series, timeframe=st.sampled_from(["5m", "1h", "1d"]))
def test_counts_tell_how_many_bars_each_bucket_holds(frame, timeframe):
    table = pa.table({"timestamp_ms": frame.index.as_unit("ms").asi8, **frame})
    out, counts = resample_table(table, parse_timeframe(timeframe))
    stamps = table.column("timestamp_ms").to_numpy()
    buckets = out.column("timestamp_ms").to_numpy()
    expected = np.searchsorted(stamps, buckets + parse_timeframe(timeframe)) - np.searchsorted(
        stamps, buckets
    )
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, expected)


def test_weekly_buckets_open_on_monday_utc():
    frame = minute_bars(seed=1, rows=30 * 1_440, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    weekly = resample(frame, "1w")
    assert list(weekly.index[:3]) == [
        pd.Timestamp("2019-12-30", tz="UTC"),
        pd.Timestamp("2020-01-06", tz="UTC"),
        pd.Timestamp("2020-01-13", tz="UTC"),
    ]
    assert set(weekly.index.day_of_week) == {0}
    first_week = frame.loc[: pd.Timestamp("2020-01-05 23:59", tz="UTC")]
    assert weekly["open"].iloc[0] == first_week["open"].iloc[0]
    assert weekly["close"].iloc[0] == first_week["close"].iloc[-1]
    assert weekly["high"].iloc[0] == first_week["high"].max()


def test_offset_17h_opens_daily_buckets_at_5pm_utc():
    frame = minute_bars(seed=2, rows=3 * 1_440, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    daily = resample(frame, "1d", "17h")
    assert list(daily.index) == [
        pd.Timestamp("2019-12-31 17:00", tz="UTC"),
        pd.Timestamp("2020-01-01 17:00", tz="UTC"),
        pd.Timestamp("2020-01-02 17:00", tz="UTC"),
        pd.Timestamp("2020-01-03 17:00", tz="UTC"),
    ]
    first_session = frame.loc[: pd.Timestamp("2020-01-01 16:59", tz="UTC")]
    assert daily["volume"].iloc[0] == first_session["volume"].sum()
    assert daily["low"].iloc[0] == first_session["low"].min()


def test_integer_extras_stay_integer_and_sum():
    frame = minute_bars(seed=3, rows=10, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    frame["trades"] = np.arange(1, 11, dtype=np.int64)
    five = resample(frame, "5m")
    assert five["trades"].dtype == np.int64
    assert five["trades"].tolist() == [15, 40]


def test_non_additive_extras_take_the_last_value():
    frame = minute_bars(seed=4, rows=10, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    five = resample(frame, "5m")
    assert five["vwap"].tolist() == [frame["vwap"].iloc[4], frame["vwap"].iloc[9]]


def test_resample_table_keeps_lake_columns_order_and_types():
    frame = minute_bars(seed=5, rows=120, start_ms=EPOCH_2020_MS, gap_rate=0.2, max_gap=5)
    table = pa.table({"timestamp_ms": frame.index.as_unit("ms").asi8, **frame})
    out, counts = resample_table(table, parse_timeframe("15m"))
    assert out.schema == table.schema
    assert int(counts.sum()) == table.num_rows
    pd.testing.assert_frame_equal(table_to_frame(out), pandas_resample(frame, "15m", None))


def test_empty_frame_resamples_to_empty_frame_with_same_columns():
    frame = minute_bars(seed=6, rows=5, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    got = resample(frame.iloc[:0], "1h")
    assert got.empty
    assert list(got.columns) == list(frame.columns)
    assert got["trades"].dtype == np.int64


def test_unsorted_bars_are_refused_with_data_error():
    frame = minute_bars(seed=7, rows=50, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    with pytest.raises(DataError, match="sorted"):
        resample(frame.iloc[::-1], "5m")
    with pytest.raises(DataError, match="sorted"):
        resample(pd.concat([frame, frame.iloc[[10]]]), "1h")


def test_bad_timeframe_and_offset_are_refused_with_config_error():
    frame = minute_bars(seed=8, rows=50, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    with pytest.raises(ConfigError, match="bad timeframe"):
        resample(frame, "5x")
    with pytest.raises(ConfigError, match="bad timeframe"):
        resample(frame, "1h", offset="soon")


def test_nan_values_are_refused_with_data_error():
    frame = minute_bars(seed=9, rows=50, start_ms=EPOCH_2020_MS, gap_rate=0.0, max_gap=1)
    frame.iloc[7, frame.columns.get_loc("close")] = np.nan
    with pytest.raises(DataError, match="'close' has 1 NaN"):
        resample(frame, "5m")
