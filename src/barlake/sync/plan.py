"""What a sync would do for each instrument, from the lake's coverage alone (no network).

The window is `[start, end)`: start = --start, else the row's `start`, else where the
series' coverage begins, else the venue's listing (found by the first sync); end =
--end, else now, and never past the last closed minute. Inside it: missing (never
answered), known-empty (answered, no bars: weekends, outages, before listing) and,
for venues that keep only recent candles, ranges beyond the venue's retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from barlake.errors import ConfigError
from barlake.instruments import Instrument
from barlake.lake import intervals as iv
from barlake.lake.layout import SeriesKey
from barlake.lake.store import Lake
from barlake.timeframes import MINUTE_MS, floor_ts

BASE = "1m"


@dataclass(frozen=True)
class Window:
    start: int | None  # --start; None = from the row / coverage / listing
    end: int | None  # --end; None = now

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ConfigError("--start must be before --end (the range is [start, end))")


@dataclass
class InstrumentPlan:
    item: Instrument
    key: SeriesKey
    start: int | None  # None: from the venue's listing, found when the sync runs
    end: int
    missing: iv.Intervals = field(default_factory=list)
    beyond_retention: iv.Intervals = field(default_factory=list)
    known_empty: iv.Intervals = field(default_factory=list)  # filled by describe()
    present_minutes: int = 0  # filled by describe()
    error: str | None = None  # e.g. an unknown exchange: the sync will report it the same way

    @property
    def missing_bars(self) -> int:
        return iv.total(self.missing) // MINUTE_MS


def plan_instrument(
    lake: Lake,
    item: Instrument,
    window: Window,
    now_ms: int,
    earliest: int | None = None,
    listing: int | None = None,
) -> InstrumentPlan:
    """`earliest` is the venue's retention start (Hyperliquid), None when it keeps everything;
    `listing` the venue's first bar, used when nothing else says where to start."""
    key = lake.key(item.source, item.instrument, BASE)
    end = min(window.end or now_ms, floor_ts(now_ms, MINUTE_MS))
    coverage = lake.coverage(key).answered
    start = window.start if window.start is not None else item.start_ms
    if start is None and coverage:
        start = coverage[0][0]
    if start is None:
        start = listing
    plan = InstrumentPlan(item, key, start, end)
    if start is None or start >= end:
        return plan
    missing = lake.missing(key, start, end)
    if earliest is not None and earliest > start:
        plan.beyond_retention = iv.clip(missing, start, min(earliest, end))
        missing = iv.clip(missing, earliest, end) if earliest < end else []
    plan.missing = missing
    return plan


def describe(lake: Lake, plan: InstrumentPlan) -> InstrumentPlan:
    """Add what `--plan` shows besides the missing ranges: known-empty and stored minutes.

    Kept out of `plan_instrument` because it reads every timestamp of the window, which the
    sync itself does not need."""
    if plan.start is None or plan.start >= plan.end:
        return plan
    plan.known_empty = lake.known_empty(plan.key, plan.start, plan.end)
    answered = iv.total(iv.clip(lake.coverage(plan.key).answered, plan.start, plan.end))
    plan.present_minutes = (answered - iv.total(plan.known_empty)) // MINUTE_MS
    return plan
