"""Binance spot and USD-M: whole past months and days from the bulk archive, REST for the rest.

A month fully inside the asked range and already over comes as one monthly zip; if that
is not published yet (first Monday of the next month) its days come as daily zips; a day
whose zip is missing (it appears the next day) or fails its checksum comes from REST, as
do the partial days at both ends. Every path yields the same bars: the archive holds what
REST serves, so the lake files are identical whichever path filled them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pyarrow as pa

from barlake.errors import BadResponseError
from barlake.lake.layout import month_bounds, month_of
from barlake.sources.base import Page, inside, prefetched
from barlake.sources.binance_archive import BinanceArchive
from barlake.sources.ccxt_rest import CcxtFeed
from barlake.timeframes import DAY_MS

MONTHLY_GRACE_MS = 8 * DAY_MS  # after this, a missing monthly zip means "no file", not "not yet"
AHEAD = 2  # archive files loading in the background while one is merged
log = logging.getLogger(__name__)


class BinanceFeed:
    def __init__(self, rest: CcxtFeed, archive: BinanceArchive) -> None:
        self.rest = rest
        self.archive = archive

    @property
    def requests(self) -> int:
        return self.rest.requests + self.archive.requests

    def listing(self) -> int | None:
        return self.rest.listing()

    def earliest(self, now_ms: int) -> int | None:
        return None

    def fetch(self, start: int, end: int) -> Iterator[Page]:
        """Archive files are downloaded and parsed a few pieces ahead on helper threads (unzip
        and CSV parsing release the GIL), so the next month loads while this one is merged."""
        self.rest.ensure_markets()
        now = self.rest.clock()
        pieces = split(start, end, now - now % DAY_MS)
        loaded = prefetched(pieces, lambda piece: self._load(*piece), AHEAD, "archive")
        for (kind, lo, hi), table in loaded:
            if kind == "rest":
                yield from self.rest.fetch(lo, hi)
            else:
                yield from self._pages(kind, lo, hi, table, now)

    def _load(self, kind: str, lo: int, hi: int) -> pa.Table | None:
        """The month's or day's file, or None when it is missing or refused (and for a REST
        piece, which is fetched in its turn, not ahead)."""
        if kind == "rest":
            return None
        moment = _utc(lo)
        try:
            if kind == "month":
                return self.archive.month(moment.year, moment.month)
            return self.archive.day(moment.date())
        except BadResponseError as error:
            log.warning("%s; falling back", error)
            return None

    def _pages(
        self, kind: str, lo: int, hi: int, table: pa.Table | None, now: int
    ) -> Iterator[Page]:
        """The file's page; without a file, a month falls back to its daily files while the
        monthly one may still be due (else REST), a day to REST (it appears the day after)."""
        if table is not None:
            yield Page(inside(table, lo, hi), (lo, hi), f"archive-{kind}")
        elif kind == "month" and hi + MONTHLY_GRACE_MS > now:
            for day in range(lo, hi, DAY_MS):
                table = self._load("day", day, day + DAY_MS)
                yield from self._pages("day", day, day + DAY_MS, table, now)
        else:
            yield from self.rest.fetch(lo, hi)


def split(start: int, end: int, today: int) -> list[tuple[str, int, int]]:
    """[start, end) → ("rest" | "month" | "day", lo, hi) pieces in time order.

    Whole UTC days before `today` (midnight) go to the archive, grouped into months when a
    calendar month is whole; partial days at the ends go to REST.
    """
    first = -(-start // DAY_MS) * DAY_MS
    last = min(end, today) // DAY_MS * DAY_MS
    if first >= last:
        return [("rest", start, end)] if start < end else []
    pieces: list[tuple[str, int, int]] = [("rest", start, first)] if start < first else []
    day = first
    while day < last:
        month_lo, month_hi = month_bounds(*month_of(day))
        if day == month_lo and month_hi <= last:
            pieces.append(("month", month_lo, month_hi))
            day = month_hi
        else:
            pieces.append(("day", day, day + DAY_MS))
            day += DAY_MS
    if last < end:
        pieces.append(("rest", last, end))
    return pieces


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
