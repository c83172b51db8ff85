"""Candles as a live feed sees them: closed minutes from the truth plus the forming minute
as traded so far on the tape (`Market.live` with `Tape.forming`) — the rule the Binance and
Hyperliquid WebSockets share with their REST candles.

A candle read after its close equals the REST kline (same integers); read before, its
OHLCV is exactly what the tape has printed up to that millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass

from barlake.emulator.candles import aggregate, shift_open
from barlake.emulator.market import Bars
from barlake.emulator.trades import Tape
from barlake.timeframes import DAY_MS, MINUTE_MS, floor_ts


@dataclass(frozen=True)
class Candle:
    """One candle as integers (`bars` has one row) with its first/last trade ids (-1: none)."""

    bars: Bars
    close_ms: int
    closed: bool
    first_id: int
    last_id: int

    def value(self, name: str) -> int:
        """One field of the single row (`"open"`, `"volume"`, …) as a Python int."""
        return int(getattr(self.bars, name)[0])


def candle(tape: Tape, symbol: str, interval: str, open_ms: int, now_ms: int) -> Candle | None:
    """The candle opening at `open_ms` as of `now_ms`; None if the venue had no minute in it."""
    end = shift_open(open_ms, interval, 1)
    rows = tape.book.get(symbol).live(open_ms, end, now_ms, tape.forming(symbol))
    if not len(rows):
        return None
    first, last = _trade_ids(tape, symbol, rows, now_ms)
    return Candle(aggregate(rows, interval), end - 1, now_ms >= end, first, last)


def _trade_ids(tape: Tape, symbol: str, rows: Bars, now_ms: int) -> tuple[int, int]:
    """First and last tape ids among `rows` up to now, building at most two minutes."""
    busy = rows.open_ms[rows.volume > 0]
    for minute in busy[::-1]:
        ids = tape.minute(symbol, int(minute))
        done = ids.ids[ids.times <= now_ms]
        if len(done):
            head = tape.minute(symbol, int(busy[0])).ids
            return int(head[0]), int(done[-1])
    return -1, -1


def rolling_day(tape: Tape, symbol: str, now_ms: int) -> Bars:
    """The last 24 h of minutes up to now (the forming one as traded so far), for tickers."""
    minute = floor_ts(now_ms, MINUTE_MS)
    start = minute - DAY_MS + MINUTE_MS
    return tape.book.get(symbol).live(start, minute + MINUTE_MS, now_ms, tape.forming(symbol))
