"""--trades-to-ohlcv: bars built from public trades by `stream.aggregate`, with every bucket the
socket did not see whole taken from REST klines instead.

The first bucket after any (re)connect is partial (its earlier trades went by unheard), so the
aggregator is told to own buckets only from the boundary after the first trade heard; the bars
from the last one written up to that boundary are fetched once that boundary has passed on the
venue (a trade at or after it arrives, or the estimated venue clock passes it plus the grace).
Buckets without trades inside a connection are left to REST as well (Binance has a flat
zero-volume kline there, other venues nothing), so the sink holds what the venue's klines hold.

A bucket is emitted at the first trade of a later bucket or, failing that, once the grace has
passed after its end (late trades inside the grace are included). "After the grace" is judged
on the venue's clock, estimated as the newest trade time plus the real time since it arrived:
a wall clock would close buckets early against a venue (or emulator) whose clock runs
elsewhere; this estimate can only be late. A socket that went silent unnoticed may make such
a bar short: the backfill after the reconnect starts at the last trade heard and overwrites it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ccxt.base.decimal_to_precision import DECIMAL_PLACES

from barlake.stream.aggregate import TradeAggregator
from barlake.stream.closing import Closed, Hole
from barlake.stream.model import Bar, StreamConfig, Trade
from barlake.timeframes import floor_ts, parse_timeframe

if TYPE_CHECKING:
    from barlake.stream.recorder import Recorder, TradeBatch


@dataclass
class Series:
    """One symbol: its aggregator and what is owed to the sink."""

    aggregator: TradeAggregator
    next_ms: int | None = None  # open time of the first bar not yet written
    owned_from: int | None = None  # None: the next trade is the first on this socket
    lot_decimals: int | None = None  # amounts are whole lots: the volume is rounded to them
    last_ts: int = 0  # newest trade time heard (venue clock)
    heard_at: float = field(default_factory=time.monotonic)

    def venue_now(self) -> int:
        return self.last_ts + int((time.monotonic() - self.heard_at) * 1000)


class TradeBars:
    """Trades → closed bars for every symbol of one stream, holes filled through `recorder`."""

    def __init__(self, recorder: Recorder, config: StreamConfig) -> None:
        self.recorder = recorder
        self.timeframe = config.timeframe
        self.tf_ms = parse_timeframe(config.timeframe)
        self.grace_ms = config.grace_ms
        self.series: dict[str, Series] = {}

    async def add(self, batch: TradeBatch) -> None:
        series = self.series.get(batch.symbol)
        if series is None:
            aggregator = TradeAggregator(batch.symbol, self.timeframe, grace_ms=self.grace_ms)
            lots = lot_decimals(self.recorder.exchange, batch.symbol)
            series = self.series[batch.symbol] = Series(aggregator, lot_decimals=lots)
        for trade in sorted(batch.trades, key=lambda t: t.timestamp_ms):
            await self._one(series, trade, batch.received)

    async def _one(self, series: Series, trade: Trade, received: float) -> None:
        if trade.timestamp_ms >= series.last_ts:
            series.last_ts, series.heard_at = trade.timestamp_ms, time.monotonic()
        if series.owned_from is None:
            # never trust the bucket of the first trade heard (+1: a trade on the boundary
            # may have had earlier same-millisecond trades we missed)
            series.owned_from = series.aggregator.reset_after(trade.timestamp_ms + 1)
            if series.next_ms is None:
                series.next_ms = floor_ts(trade.timestamp_ms, self.tf_ms)
        if trade.timestamp_ms >= series.owned_from:
            await self._settle(series, series.owned_from)
        bars = series.aggregator.add(trade, series.venue_now())
        await self._write(series, bars, received)

    async def _settle(self, series: Series, boundary: int) -> None:
        """Fetch the owed bars before `boundary` (closed on the venue by now)."""
        if series.next_ms is not None and series.next_ms < boundary:
            symbol = series.aggregator.symbol
            await self.recorder.backfill(symbol, Hole(series.next_ms, boundary))
            series.next_ms = boundary

    async def _write(self, series: Series, bars: list[Bar], received: float) -> None:
        for bar in bars:
            if series.next_ms is not None and bar.timestamp_ms < series.next_ms:
                continue  # already written (from REST)
            await self._settle(series, bar.timestamp_ms)  # empty buckets in between
            if series.lot_decimals is not None:
                bar = bar._replace(volume=round(bar.volume, series.lot_decimals))
            self.recorder.write_live(Closed(bar, received))
            series.next_ms = bar.timestamp_ms + self.tf_ms

    async def tick(self) -> None:
        """The grace rule: a bucket over for longer than the grace that no later trade closed is
        emitted as its trades built it. Buckets without any trade (a quiet minute) come from
        REST, which knows whether the venue has a bar there (Binance: a flat kline)."""
        received = time.perf_counter()  # the latency clock, as the readers stamp it
        for series in self.series.values():
            if series.owned_from is None or series.next_ms is None:
                continue
            await self._write(series, series.aggregator.tick(series.venue_now()), received)
            edge = floor_ts(series.venue_now() - self.grace_ms, self.tf_ms)
            if series.next_ms < edge and edge > series.owned_from:
                await self._settle(series, edge)

    def resync(self) -> None:
        """The socket was replaced: drop every partial bucket; the next trade re-anchors."""
        for series in self.series.values():
            series.aggregator.discard_partial()
            series.owned_from = None


def lot_decimals(exchange: Any, symbol: str) -> int | None:
    """Decimals of the market's amount step (a float sum of lot-sized amounts drifts by an ulp:
    5.49111 came out as 5.491109999999999). None when the venue gives no decimal step."""
    market = (getattr(exchange, "markets", None) or {}).get(symbol) or {}
    step = (market.get("precision") or {}).get("amount")
    if exchange.precisionMode == DECIMAL_PLACES and isinstance(step, int | float):
        return int(step)
    if not isinstance(step, int | float) or step <= 0 or step >= 1:
        return 0 if step == 1 else None
    text = f"{step:.12f}".rstrip("0")
    return len(text.split(".")[1])
