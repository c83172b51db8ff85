"""Dukascopy FX/CFD 1m bars through either transport (JSON API or bi5 datafeed).

Past UTC days come from the day's minute-candle file(s) — BID, ASK or both for `mid` —
and the current day, whose minute file does not exist yet, from its hourly tick files
(ticks → 1m with the same side rule). One page per file; its `answered` range is the part
of the file's period inside the asked window, so weekends (bi5: flat candles; JSON: an
empty day) become known-empty and are never asked again.

An answer with no records is trusted only where the instrument's calendar says the market
may be closed; elsewhere it is asked again (up to `empty_tries` times, with back-off; for
`mid`, only a day's side that came back empty) and, if still empty, the period is left
missing and logged — the next sync asks again.
`fail_streak` such periods in a row give the instrument up. Files load `workers` ahead on
helper threads (each decoded, cut to its window and turned into a table there, over
kept-alive connections); all Dukascopy requests of a run share one gate of `workers` slots.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import pyarrow as pa

from barlake.dates import fmt_ms
from barlake.errors import ConfigError
from barlake.instruments import Instrument
from barlake.sources.base import Page, prefetched
from barlake.sources.dukascopy_bi5 import Bi5Transport
from barlake.sources.dukascopy_calendar import may_be_closed
from barlake.sources.dukascopy_http import KeepAliveClient
from barlake.sources.dukascopy_json import JsonTransport
from barlake.sources.dukascopy_records import Candles, Ticks, bars, fill_gaps, minutes
from barlake.sources.dukascopy_table import DukaInstrument, guess_json_code, lookup, scale_problem
from barlake.sources.retry import Attempts, GaveUpError
from barlake.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_ts

EMPTY_TRIES = 3
T = TypeVar("T")
log = logging.getLogger(__name__)


class Transport(Protocol):
    """Where one instrument's files live and how their bodies read (bi5 or JSON)."""

    name: str
    running_hour: bool  # can it serve the hour still in progress

    def day_url(self, day_ms: int, side: str) -> str: ...
    def hour_url(self, hour_ms: int, running: bool = False) -> str: ...
    def parse_day(self, body: bytes | None, day_ms: int, url: str = ...) -> Candles: ...
    def parse_hour(self, body: bytes | None, hour_ms: int, url: str = ...) -> Ticks: ...


@dataclass(frozen=True)
class Unit:
    """One file to fetch: a past day's minute candles, or an hour of ticks of today."""

    kind: str  # "day" | "hour" | "running"
    period: tuple[int, int]  # what the file covers
    answered: tuple[int, int]  # the part of it inside the asked window


@dataclass
class Settings:
    workers: int = 2
    keep_flats: bool = False
    empty_tries: int = EMPTY_TRIES


class DukascopyFeed:
    def __init__(
        self,
        item: Instrument,
        known: DukaInstrument | None,
        transport: Transport,
        client: KeepAliveClient,
        attempts: Attempts,
        clock: Callable[[], int],
        gate: threading.Semaphore,
        settings: Settings | None = None,
    ) -> None:
        self.item = item
        self.transport = transport
        self.client = client
        self.attempts = attempts
        self.clock = clock
        self.gate = gate
        self.settings = settings or Settings()
        self.known = known  # the built-in table's entry for data_symbol, if any
        self.calendar = known.calendar if known else "fx"
        self.sides = ("bid", "ask") if item.side == "mid" else (item.side,)
        self.requests = 0
        self._count = threading.Lock()

    def earliest(self, now_ms: int) -> int | None:
        return None

    def listing(self) -> int | None:
        """The first day with minute candles, from the built-in table (no request)."""
        if self.known is None:
            raise ConfigError(
                f"{self.item.instrument}: no first day is known for {self.item.data_symbol}; "
                "put the first date you want in the start column (or pass --start)"
            )
        return self.known.first_ms

    def fetch(self, start: int, end: int) -> Iterator[Page]:
        units = plan_units(start, end, self.clock(), self.transport.running_hour)
        streak = 0
        try:
            for unit, table in prefetched(units, self._load, self.settings.workers, "dukascopy"):
                if table is not None:
                    streak = 0
                    via = f"{self.transport.name}-{'day' if unit.kind == 'day' else 'ticks'}"
                    yield Page(table, unit.answered, via)
                    continue
                streak += 1
                if streak >= self.attempts.policy.fail_streak:
                    raise GaveUpError(
                        f"{self.item.instrument}: gave up after {streak} trading periods in a "
                        f"row came back empty (last: {self._what(unit)}); the feed may be down "
                        f"or blocked where you are, or data_symbol {self.item.data_symbol!r} "
                        "may be wrong"
                    )
        finally:
            self.client.close()

    def _load(self, unit: Unit) -> pa.Table | None:
        """The unit's bars inside its `answered` range (on the loading thread); an empty
        table where the market may be closed and said so; None when it stayed empty although
        the market should trade."""
        policy = self.attempts.policy
        sides: dict[str, Candles] = {}
        for attempt in range(1, self.settings.empty_tries + 1):
            sides = self._sides(unit, sides)
            empty = [side for side, candles in sides.items() if not len(candles)]
            if not empty or (
                len(empty) == len(sides) and may_be_closed(self.calendar, *unit.answered)
            ):
                lo, hi = unit.answered
                answered = {side: candles.inside(lo, hi) for side, candles in sides.items()}
                return bars(answered, self.item.side, self.settings.keep_flats)
            if attempt < self.settings.empty_tries:
                log.info(
                    "%s: %s came back empty; asking again", self.item.instrument, self._what(unit)
                )
                policy.sleep(policy.backoff(attempt))
        log.warning(
            "%s: %s came back empty %d times although the market should trade; left missing "
            "(the next sync asks again)", self.item.instrument, self._what(unit),
            self.settings.empty_tries,
        )  # fmt: skip
        return None

    def _sides(self, unit: Unit, kept: dict[str, Candles]) -> dict[str, Candles]:
        """Candles per side needed, from the minute file(s) or the hour's ticks; a day's side
        that came with candles on an earlier try (`kept`) is not asked again."""
        lo, hi = unit.period
        if unit.kind == "day":
            full = {side: candles for side, candles in kept.items() if len(candles)}
            asked = [side for side in self.sides if side not in full]
            return full | {side: self._fill(self._day(lo, side)) for side in asked}
        url = self.transport.hour_url(lo, unit.kind == "running")
        ticks = self._get(url, lambda body: self.transport.parse_hour(body, lo, url))
        return {side: minutes(ticks, side).inside(lo, hi) for side in self.sides}

    def _day(self, day_ms: int, side: str) -> Candles:
        url = self.transport.day_url(day_ms, side)
        return self._get(url, lambda body: self.transport.parse_day(body, day_ms, url))

    def _fill(self, candles: Candles) -> Candles:
        sparse = self.settings.keep_flats and self.transport.name == "json"
        return fill_gaps(candles) if sparse else candles

    def _get(self, url: str, parse: Callable[[bytes | None], T]) -> T:
        def once() -> T:
            with self.gate:
                with self._count:
                    self.requests += 1
                body = self.client.get(url)
            return parse(body)

        return self.attempts.call(once)

    def _what(self, unit: Unit) -> str:
        what = "minute file" if unit.kind == "day" else "tick file"
        return f"{fmt_ms(unit.period[0])} {what} ({self.transport.name})"


def plan_units(start: int, end: int, now: int, running_hour: bool) -> list[Unit]:
    """[start, end) → the files covering it: whole past days, then today's hours (the hour
    in progress only if the transport serves it, and only up to the last closed minute)."""
    today, this_hour = floor_ts(now, DAY_MS), floor_ts(now, HOUR_MS)
    closed = floor_ts(now, MINUTE_MS)
    units = []
    day = floor_ts(start, DAY_MS)
    while day < min(end, today):
        units.append(Unit("day", (day, day + DAY_MS), (max(start, day), min(end, day + DAY_MS))))
        day += DAY_MS
    hour = floor_ts(max(start, today), HOUR_MS)
    while hour < min(end, closed):
        if hour < this_hour:
            period = (hour, hour + HOUR_MS)
            units.append(Unit("hour", period, (max(start, hour), min(end, hour + HOUR_MS))))
        elif running_hour:
            units.append(Unit("running", (hour, closed), (max(start, hour), min(end, closed))))
        hour += HOUR_MS
    return [unit for unit in units if unit.answered[0] < unit.answered[1]]


def point_factor(item: Instrument) -> float:
    """The row's `price_scale`, else the table's factor; ConfigError saying how to find it."""
    return _factor(item, lookup(item.data_symbol))


def _factor(item: Instrument, known: DukaInstrument | None) -> float:
    problem = scale_problem(item.data_symbol, known, bool(item.price_scale))
    if problem is not None:
        raise ConfigError(f"{item.instrument}: {problem}")
    if item.price_scale:
        return item.price_scale
    assert known is not None  # scale_problem lets a row without price_scale pass only then
    return known.factor


def open_feed(
    item: Instrument,
    attempts: Attempts,
    timeout_s: float,
    clock: Callable[[], int],
    gate: threading.Semaphore,
    settings: Settings,
) -> DukascopyFeed:
    """The feed for one `backend=dukascopy` row; refuses a row whose point factor is unknown."""
    known = lookup(item.data_symbol)
    factor = _factor(item, known)
    transport: Transport
    if item.transport == "bi5":
        transport = Bi5Transport(item.base_url, item.data_symbol, factor)
    else:
        code = known.json_code if known else guess_json_code(item.data_symbol)
        transport = JsonTransport(item.base_url, code, factor)
    client = KeepAliveClient(timeout_s)
    return DukascopyFeed(item, known, transport, client, attempts, clock, gate, settings)
