"""Which candle updates are final bars, and which bars must come from REST instead.

Venues push the *forming* candle over and over (PROTOCOLS §3.3, §5.4). A bar is final when the
venue flags it (Binance `k.x`) or, on venues without a flag (Hyperliquid), when a later bar
starts. Whatever the socket missed — a drop across a close, a reconnect, a flag that never
came — shows up as an update whose open time is past the next bar we still owe; everything in
between has closed on the venue, so it is a *hole* to fetch from REST before going on. Bars go
out strictly in time order and each open time at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from barlake.stream.exchange import Candle
from barlake.stream.model import Bar


class Closed(NamedTuple):
    """A final bar and when the update that closed it arrived (perf_counter seconds)."""

    bar: Bar
    received: float


class Hole(NamedTuple):
    """Bars with open time in [start, end) closed while we were not listening: ask REST."""

    start: int
    end: int


Step = Closed | Hole


@dataclass
class CloseTracker:
    """One (symbol, timeframe) series. `flagged`: the venue marks the final update."""

    timeframe_ms: int
    flagged: bool
    next_ms: int | None = None  # open time of the first bar not yet handed on
    forming: Candle | None = None
    stale: bool = False  # a reconnect happened: the forming candle may have missed updates

    def resync(self) -> None:
        """After a reconnect the last forming state cannot be trusted to be final."""
        self.stale = True

    def update(self, candle: Candle) -> list[Step]:
        """The steps this update makes due, in time order."""
        steps: list[Step] = []
        if self.next_ms is not None and candle.timestamp_ms < self.next_ms:
            return steps  # a bar already handed on (or fetched): never twice
        if self.stale:
            self.stale, self.forming = False, None
        if (
            not self.flagged
            and self.forming is not None
            and candle.timestamp_ms > self.forming.timestamp_ms
        ):
            steps.append(Closed(to_bar(self.forming), candle.received))
            self.next_ms = self.forming.timestamp_ms + self.timeframe_ms
            self.forming = None
        if self.next_ms is None:
            self.next_ms = candle.timestamp_ms
        elif candle.timestamp_ms > self.next_ms:
            steps.append(Hole(self.next_ms, candle.timestamp_ms))
            self.next_ms = candle.timestamp_ms
        if self.flagged and candle.closed:
            steps.append(Closed(to_bar(candle), candle.received))
            self.next_ms = candle.timestamp_ms + self.timeframe_ms
            self.forming = None
        else:
            self.forming = candle
        return steps


def to_bar(candle: Candle) -> Bar:
    return Bar._make(candle[:8])  # Candle starts with Bar's fields, in Bar's order
