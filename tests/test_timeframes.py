"""Timeframe names ↔ milliseconds, offsets, and the bucket grid (epoch, Monday weeks, offsets)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barlake.dates import to_ms
from barlake.errors import ConfigError
from barlake.timeframes import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    WEEK_MS,
    bucket_anchor,
    canonical,
    ceil_ts,
    floor_ts,
    format_timeframe,
    parse_offset,
    parse_timeframe,
)

CHEAP = settings(max_examples=100, deadline=None)


def ms(text: str) -> int:
    value = to_ms(text)
    assert value is not None
    return value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1m", 60_000),
        ("5m", 300_000),
        ("90m", 5_400_000),
        ("4h", 14_400_000),
        ("1d", 86_400_000),
        ("1w", 604_800_000),
        (" 15m ", 900_000),
    ],
)
def test_parse_timeframe_gives_milliseconds(text, expected):
    assert parse_timeframe(text) == expected


@pytest.mark.parametrize(
    "text", ["0m", "1s", "1M", "abc", "", "m", "5", "1.5h", "-1m", "5 m", "1y", "1H", "4hh"]
)
def test_parse_timeframe_refuses_what_is_not_a_whole_minute_size(text):
    with pytest.raises(ConfigError, match="bad timeframe") as info:
        parse_timeframe(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("ms_value", "expected"),
    [
        (60_000, "1m"),
        (300_000, "5m"),
        (90 * MINUTE_MS, "90m"),
        (HOUR_MS, "1h"),
        (36 * HOUR_MS, "36h"),
        (DAY_MS, "1d"),
        (3 * DAY_MS, "3d"),
        (WEEK_MS, "1w"),
        (2 * WEEK_MS, "2w"),
    ],
)
def test_format_timeframe_picks_the_largest_even_unit(ms_value, expected):
    assert format_timeframe(ms_value) == expected


@pytest.mark.parametrize("ms_value", [0, -MINUTE_MS, 30_000, MINUTE_MS + 1])
def test_format_timeframe_refuses_non_positive_or_sub_minute_sizes(ms_value):
    with pytest.raises(ConfigError, match="whole number of minutes"):
        format_timeframe(ms_value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("60m", "1h"), ("120m", "2h"), ("24h", "1d"), ("1440m", "1d"), ("7d", "1w"), ("5m", "5m")],
)
def test_canonical_gives_one_name_per_size(text, expected):
    assert canonical(text) == expected


@CHEAP
@given(st.integers(min_value=1, max_value=2_000_000))
def test_format_then_parse_round_trips_any_whole_minute_count(minutes):
    size = minutes * MINUTE_MS
    name = format_timeframe(size)
    assert parse_timeframe(name) == size
    assert canonical(name) == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 0),
        ("", 0),
        ("0", 0),
        ("17h", 17 * HOUR_MS),
        ("-7h", -7 * HOUR_MS),
        ("+30m", 30 * MINUTE_MS),
        (" 2d ", 2 * DAY_MS),
    ],
)
def test_parse_offset_reads_signed_durations(text, expected):
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["17x", "1s", "abc", "5", "--5h", "+-5h", "-+5h"])
def test_parse_offset_refuses_malformed_offsets(text):
    with pytest.raises(ConfigError):
        parse_offset(text)


def test_bucket_anchor_is_the_epoch_or_monday_for_weeks_plus_the_offset():
    assert bucket_anchor(HOUR_MS) == 0
    assert bucket_anchor(DAY_MS, 17 * HOUR_MS) == 17 * HOUR_MS
    assert bucket_anchor(WEEK_MS) == ms("1970-01-05")  # the first Monday after the epoch
    assert bucket_anchor(2 * WEEK_MS) == ms("1970-01-05")
    assert bucket_anchor(WEEK_MS, -7 * HOUR_MS) == ms("1970-01-04T17:00")


@pytest.mark.parametrize(
    ("when", "timeframe", "offset", "floor", "ceil"),
    [
        ("2024-03-05T13:37", "4h", None, "2024-03-05T12:00", "2024-03-05T16:00"),
        ("2024-03-05T12:00", "4h", None, "2024-03-05T12:00", "2024-03-05T12:00"),
        ("2024-03-05T23:59", "1d", None, "2024-03-05", "2024-03-06"),
        ("2024-03-05T13:37", "5m", None, "2024-03-05T13:35", "2024-03-05T13:40"),
        # weeks open Monday 00:00 UTC: 2024-01-01 was a Monday
        ("2024-01-03T12:00", "1w", None, "2024-01-01", "2024-01-08"),
        ("2024-01-01T00:00", "1w", None, "2024-01-01", "2024-01-01"),
        ("2023-12-31T23:59", "1w", None, "2023-12-25", "2024-01-01"),
        # the FX day opens at 17:00 UTC
        ("2024-01-03T16:59", "1d", "17h", "2024-01-02T17:00", "2024-01-03T17:00"),
        ("2024-01-03T17:00", "1d", "17h", "2024-01-03T17:00", "2024-01-03T17:00"),
        ("2024-01-03T17:01", "1d", "-7h", "2024-01-03T17:00", "2024-01-04T17:00"),
        # the FX week opens Sunday 17:00 UTC
        ("2024-01-01T10:00", "1w", "-7h", "2023-12-31T17:00", "2024-01-07T17:00"),
        ("2024-01-07T16:59", "1w", "-7h", "2023-12-31T17:00", "2024-01-07T17:00"),
        # before the epoch the grid carries on
        ("1969-12-31T22:30", "4h", None, "1969-12-31T20:00", "1970-01-01T00:00"),
    ],
)
def test_floor_and_ceil_find_the_enclosing_bucket(when, timeframe, offset, floor, ceil):
    tf, off = parse_timeframe(timeframe), parse_offset(offset)
    assert floor_ts(ms(when), tf, off) == ms(floor)
    assert ceil_ts(ms(when), tf, off) == ms(ceil)


@CHEAP
@given(
    st.integers(min_value=-(10**12), max_value=4 * 10**12),
    st.sampled_from(["1m", "5m", "15m", "1h", "4h", "1d", "3d", "1w", "2w"]),
    st.integers(min_value=-48, max_value=48),
)
def test_floor_and_ceil_bracket_the_instant_on_the_grid(ts, timeframe, offset_hours):
    tf, off = parse_timeframe(timeframe), offset_hours * HOUR_MS
    low, high = floor_ts(ts, tf, off), ceil_ts(ts, tf, off)
    assert low <= ts < low + tf
    assert ts <= high < ts + tf
    assert (low - bucket_anchor(tf, off)) % tf == 0
    assert (high - bucket_anchor(tf, off)) % tf == 0
    assert (high == ts) == (low == ts)
    assert floor_ts(ts, tf, off + tf) == low  # shifting by a whole bucket changes nothing


@CHEAP
@given(st.integers(min_value=0, max_value=4 * 10**12))
def test_weekly_buckets_always_open_on_monday_midnight(ts):
    opened = floor_ts(ts, WEEK_MS)
    days_since_epoch, rest = divmod(opened, DAY_MS)
    assert rest == 0
    assert (days_since_epoch + 3) % 7 == 0  # epoch day 0 was a Thursday, day 4 a Monday
