"""Timeframes as integer milliseconds; everything else in barlake does arithmetic on those."""

from __future__ import annotations

import re
from typing import TypeVar

import numpy as np

from barlake.errors import ConfigError

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
# 1970-01-01 was a Thursday; weekly buckets open on Monday 00:00 UTC, 4 days later.
WEEK_ANCHOR_MS = 4 * DAY_MS
# Open times read to infer a bar size: enough to outvote weekends and holes, cheap on any series.
INFER_SAMPLE = 1_001

_UNITS = {"m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": WEEK_MS}
_PATTERN = re.compile(r"^([1-9][0-9]*)([mhdw])$")

Stamps = TypeVar("Stamps", int, np.ndarray)


def parse_timeframe(text: str) -> int:
    """'5m' → 300000. Only whole minutes: seconds and calendar months are not bar sizes here."""
    match = _PATTERN.match(str(text).strip())
    if not match:
        raise ConfigError(
            f"bad timeframe {text!r}: use a number and a unit m, h, d or w, e.g. 1m, 5m, 4h, 1d, 1w"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_timeframe(ms: int) -> str:
    """300000 → '5m'; picks the largest unit that divides evenly so names are canonical."""
    if ms <= 0 or ms % MINUTE_MS:
        raise ConfigError(f"bad timeframe of {ms} ms: must be a positive whole number of minutes")
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if ms % size == 0:
            return f"{ms // size}{unit}"
    raise AssertionError("unreachable")


def canonical(text: str) -> str:
    """'60m' → '1h', so the lake never holds one timeframe under two folder names."""
    return format_timeframe(parse_timeframe(text))


def parse_offset(text: str | None) -> int:
    """Bucket offset such as '17h' (the FX day) in ms; None or '' is 0. Negative allowed ('-7h')."""
    if text is None or str(text).strip() in ("", "0"):
        return 0
    raw = str(text).strip()
    sign = -1 if raw.startswith("-") else 1
    return sign * parse_timeframe(raw[1:] if raw[0] in "+-" else raw)


def bucket_anchor(tf_ms: int, offset_ms: int = 0) -> int:
    """Origin of the bucket grid: the UTC epoch, Monday for weeks, shifted by the offset."""
    anchor = WEEK_ANCHOR_MS if tf_ms % WEEK_MS == 0 else 0
    return anchor + offset_ms


def floor_ts(ts_ms: Stamps, tf_ms: int, offset_ms: int = 0) -> Stamps:
    """Open time of the bucket holding ts_ms (an int, or each value of an int64 array)."""
    anchor = bucket_anchor(tf_ms, offset_ms)
    return ts_ms - ((ts_ms - anchor) % tf_ms)


def ceil_ts(ts_ms: int, tf_ms: int, offset_ms: int = 0) -> int:
    """Smallest bucket boundary >= ts_ms."""
    floored = floor_ts(ts_ms, tf_ms, offset_ms)
    return floored if floored == ts_ms else floored + tf_ms


def infer_timeframe_ms(ts_ms: np.ndarray) -> int | None:
    """The bar size of a series of epoch-ms open times: the most common gap between distinct
    times among the first INFER_SAMPLE, so weekends and holes do not decide it (on a tie, the
    smaller gap). None with fewer than two distinct times."""
    stamps = np.unique(np.asarray(ts_ms[:INFER_SAMPLE], dtype=np.int64))
    if stamps.size < 2:
        return None
    gaps, counts = np.unique(np.diff(stamps), return_counts=True)
    return int(gaps[int(np.argmax(counts))])
