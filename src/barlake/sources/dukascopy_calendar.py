"""When an empty Dukascopy answer may be trusted: the periods an instrument may be closed.

The calendar never decides what is stored — bars the venue sends are kept whatever the
day — it only decides how an *empty* answer is read. Inside a period the market may be
closed, an empty file is the venue saying "closed" and becomes known-empty; anywhere else
it is a flaky answer (dukascopy-node#130): asked again and, if still empty, left missing.

- `fx` (currency pairs, gold, silver): the week runs Sunday 17:00 → Friday 17:00 New York,
  i.e. Friday 21:00 (summer) or 22:00 (winter) UTC to Sunday 21:00 / 22:00 UTC; the window
  taken is the union of both, Friday 21:00 → Sunday 22:00 UTC. Holidays: 25 December and
  1 January (UTC days), when Dukascopy's own schedule closes the FX market most of the day.
- `cfd` (indices, energy, metals CFDs): the FX weekend and holidays plus Good Friday.
- `crypto` (BTCUSD, ETHUSD, …): trades every day; an empty answer is never trusted.

Daily breaks of index CFDs are not modelled: an empty hour inside one (only asked on the
current day, from tick files) is retried and left missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from barlake.timeframes import DAY_MS, HOUR_MS, WEEK_MS, floor_ts

WEEKEND = (4 * DAY_MS + 21 * HOUR_MS, 6 * DAY_MS + 22 * HOUR_MS)  # Fri 21:00 → Sun 22:00 UTC


def may_be_closed(calendar: str, start: int, end: int) -> bool:
    """True when all of [start, end) lies in periods the market may be closed."""
    if calendar == "crypto" or end <= start:
        return False
    cursor = start
    for lo, hi in _closed_spans(calendar, start - WEEK_MS, end + WEEK_MS):
        if lo <= cursor < hi:
            cursor = hi
        if cursor >= end:
            return True
    return False


def _closed_spans(calendar: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Weekends and holidays overlapping [lo, hi), sorted and merged."""
    spans = []
    monday = floor_ts(lo, WEEK_MS)  # weeks open on Monday 00:00 UTC
    while monday < hi:
        spans.append((monday + WEEKEND[0], monday + WEEKEND[1]))
        monday += WEEK_MS
    for year in range(_year(lo), _year(hi) + 1):
        for day in holidays(calendar, year):
            first = _ms(day)
            spans.append((first, first + DAY_MS))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def holidays(calendar: str, year: int) -> list[date]:
    days = [date(year, 1, 1), date(year, 12, 25)]
    if calendar == "cfd":
        days.append(easter(year) - timedelta(days=2))
    return days


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    sunday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * sunday) // 433
    month = (h + sunday - 7 * m + 90) // 25
    return date(year, month, (h + sunday - 7 * m + 33 * month + 19) % 32)


def _year(ms: int) -> int:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).year


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
