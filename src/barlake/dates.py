"""User-facing instants (ISO text, datetime, pd.Timestamp) → UTC epoch ms; naive means UTC."""

from __future__ import annotations

import time
from datetime import date, datetime

import numpy as np
import pandas as pd

from barlake.errors import ConfigError


def to_ms(
    value: str | datetime | date | pd.Timestamp | int | None, *, what: str = "date"
) -> int | None:
    """None stays None; ints are taken as epoch ms; anything else is parsed, naive as UTC."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"bad {what} {value!r}: use YYYY-MM-DD or an ISO date-time")
    if isinstance(value, int | np.integer):
        return int(value)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(
            f"bad {what} {value!r}: use YYYY-MM-DD or an ISO date-time such as 2024-01-31T12:00"
        ) from exc
    if stamp is pd.NaT:
        raise ConfigError(f"bad {what} {value!r}: use YYYY-MM-DD or an ISO date-time")
    try:
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return int(stamp.value // 1_000_000)
    except OverflowError as exc:
        raise ConfigError(f"bad {what} {value!r}: out of range (years 1677-2262)") from exc


def to_range(start: object, end: object) -> tuple[int | None, int | None]:
    """Parse a half-open [start, end) pair and refuse start >= end before anything is touched."""
    lo, hi = to_ms(start, what="start"), to_ms(end, what="end")  # type: ignore[arg-type]
    if lo is not None and hi is not None and lo >= hi:
        raise ConfigError(f"start {fmt_ms(lo)} is not before end {fmt_ms(hi)}: the range is empty")
    return lo, hi


def fmt_ms(ms: int | None) -> str:
    """Compact ISO UTC text for messages and tables."""
    if ms is None:
        return "-"
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M")


def now_ms() -> int:
    """The wall clock in UTC epoch ms (sources, the sync and the emulator share it)."""
    return time.time_ns() // 1_000_000
