"""The one consumer of a stream's events: applies the closed-bar rule, fills holes from REST,
writes to the sink, flushes every N records, and measures latency.

Readers (`stream.watch`) only put events on a queue, so a slow backfill never stalls a socket
and everything reaches the sink in arrival order: a hole is fetched and written before the bar
that revealed it. Commits are grouped: the sink only buffers, and the recorder flushes once
`flush_every` records are pending and the queue is empty (or a cap is reached, or a second has
passed). Latency is measured per live bar from the arrival of the message that closed it to
the return of the sink's flush (the row is committed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from barlake.errors import BarlakeError, SourceError
from barlake.sources.retry import RetryPolicy
from barlake.stream.backfill import fetch_closed
from barlake.stream.closing import Closed, CloseTracker, Hole, to_bar
from barlake.stream.exchange import Candle, has_kline_flag
from barlake.stream.model import Bar, Sink, Snapshot, StreamMetrics, Trade
from barlake.timeframes import parse_timeframe

log = logging.getLogger(__name__)

GROUP_CAP = 256  # records pending while events keep coming before a commit is forced


class TradeBatch(NamedTuple):
    """New trades of one symbol from one socket read."""

    symbol: str
    trades: list[Trade]
    received: float


class Resync(NamedTuple):
    """Marker queued when the connection was lost: what follows comes from a new socket."""

    reason: str


class Tick(NamedTuple):
    """Queued every second: lets time-based closing run between messages."""


Event = Candle | TradeBatch | list[Snapshot] | Resync | Tick


@dataclass(frozen=True)
class StreamUpdate:
    """What `on_update` receives: `kind` is `bar` (a live bar, once committed), `forming` (the
    live candle, never stored), `trades`, `snapshots`, `backfill` (bars fetched from REST,
    `bar` the newest) or `reconnect`."""

    kind: str
    symbol: str | None
    metrics: StreamMetrics
    bar: Bar | None = None


OnUpdate = Callable[[StreamUpdate], None]


class Recorder:
    """Events → sink for one stream; `handle` is awaited for one event at a time."""

    def __init__(
        self,
        exchange: Any,
        sink: Sink,
        metrics: StreamMetrics,
        *,
        timeframe: str,
        flush_every: int = 1,
        on_update: OnUpdate | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.exchange = exchange
        self.sink = sink
        self.metrics = metrics
        self.timeframe = timeframe
        self.timeframe_ms = parse_timeframe(timeframe)
        self.flush_every = max(1, flush_every)
        self.on_update = on_update
        self.policy = policy or RetryPolicy(base_s=0.2, cap_s=10.0)
        self.trackers: dict[str, CloseTracker] = {}
        # the venue flags final klines (else: a bar is final when the next starts)
        self.flagged = has_kline_flag(exchange)
        self.pending = 0  # records written since the last flush
        self.retry_at = 0.0  # after a failed write, no new attempt before this (monotonic)
        self.awaiting: list[Closed] = []  # live bars written but not yet committed
        self.aggregate: Any = None  # trades → bars (set by the runner for --trades-to-ohlcv)

    async def handle(self, event: Event) -> None:
        if isinstance(event, Candle):
            await self._candle(event)
        elif isinstance(event, TradeBatch):
            await self._trades(event)
        elif isinstance(event, Resync):
            self._resync(event)
        elif isinstance(event, Tick):
            if self.aggregate is not None:
                await self.aggregate.tick()
        else:
            self.sink.write_snapshots(event)
            self.metrics.snapshots += len(event)
            self._written(len(event))
            self._tell("snapshots", None)

    # -- candles ----------------------------------------------------------------------
    async def _candle(self, candle: Candle) -> None:
        tracker = self.trackers.get(candle.symbol)
        if tracker is None:
            tracker = CloseTracker(self.timeframe_ms, self.flagged)
            self.trackers[candle.symbol] = tracker
        for step in tracker.update(candle):
            if isinstance(step, Hole):
                await self.backfill(candle.symbol, step)
            else:
                self.write_live(step)
        if not candle.closed and self.on_update is not None:  # a Bar per update only if shown
            self._tell("forming", candle.symbol, to_bar(candle))

    def write_live(self, closed: Closed) -> None:
        """Hand a live bar to the sink; it is reported (`bar`) once its commit returned."""
        self.sink.write_bars([closed.bar])
        self.metrics.bars += 1
        self.awaiting.append(closed)
        self._written(1)

    async def backfill(self, symbol: str, hole: Hole) -> list[Bar]:
        """Write the closed bars of `hole` from REST; a failure is recorded, not raised."""
        try:
            bars = await fetch_closed(
                self.exchange, symbol, self.timeframe, hole.start, hole.end, policy=self.policy
            )
        except SourceError as error:
            log.error("%s: bars %d..%d stay missing: %s", symbol, hole.start, hole.end, error)
            self.metrics.errors.append(str(error))
            return []
        if bars:
            self.sink.write_bars(bars)
            self.metrics.bars += len(bars)
            self.metrics.backfilled_bars += len(bars)
            self._written(len(bars))
            self._tell("backfill", symbol, bars[-1])
        return bars

    # -- trades -----------------------------------------------------------------------
    async def _trades(self, batch: TradeBatch) -> None:
        if self.aggregate is not None:
            await self.aggregate.add(batch)
            return
        self.sink.write_trades(batch.trades)
        self.metrics.trades += len(batch.trades)
        self._written(len(batch.trades))
        self._tell("trades", batch.symbol)

    # -- connection -------------------------------------------------------------------
    def _resync(self, event: Resync) -> None:
        for tracker in self.trackers.values():
            tracker.resync()
        if self.aggregate is not None:
            self.aggregate.resync()
        self._tell("reconnect", None)

    # -- durability -------------------------------------------------------------------
    def _written(self, count: int) -> None:
        self.pending += count
        if self.pending >= max(self.flush_every, GROUP_CAP):
            self.flush()

    def settle(self, idle: bool) -> None:
        """After each event: commit once `flush_every` records are pending and nothing else is
        queued. Bars that close together (every symbol at the minute) share one commit, so
        the last of them does not wait for one fsync per symbol before it."""
        if self.pending >= self.flush_every and idle:
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        """Make everything written durable; live bars get their latency measured here. A
        failed write stays pending in the sink and is retried at the next flush (within a
        second); only the last one, at shutdown, gives up with the cause."""
        if not self.pending or (not final and time.monotonic() < self.retry_at):
            return
        try:
            self.sink.flush()
        except OSError as error:
            self.retry_at = time.monotonic() + 1.0
            if final:
                raise BarlakeError(
                    f"stream: the last records could not be written: {error}"
                ) from error
            log.warning("stream: write failed, retrying: %s", error)
            if str(error) not in self.metrics.errors[-1:]:
                self.metrics.errors.append(str(error))
            return
        self.pending = 0
        now = time.perf_counter()
        committed, self.awaiting = self.awaiting, []
        for closed in committed:
            latency = (now - closed.received) * 1000.0
            self.metrics.max_latency_ms = max(self.metrics.max_latency_ms, latency)
            self._tell("bar", closed.bar.symbol, closed.bar)

    def _tell(self, kind: str, symbol: str | None, bar: Bar | None = None) -> None:
        if self.on_update is not None:
            self.on_update(StreamUpdate(kind, symbol, self.metrics, bar))
