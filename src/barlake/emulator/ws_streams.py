"""What the emulated WebSocket venues share below their wire formats: the feed every stream
reads and the per-subscription state that decides what to push at each tick of the clock.

Klines push the forming candle every `period_ms` of market time (in real time at least
`min_push_ms`, or every `kline_push_ms` real ms when set), then exactly one final update as
soon as the clock passes the close, then the next candle. Trades push each tape trade once
the clock passes its time. A venue supplies the renderers (`ws_binance_streams`,
`ws_hyperliquid`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from barlake.emulator.candles import floor_open, shift_open
from barlake.emulator.clock import speed_of
from barlake.emulator.market import MarketBook
from barlake.emulator.trades import Tape, Trades
from barlake.emulator.ws_book import BookModel
from barlake.emulator.ws_candles import Candle, candle
from barlake.emulator.ws_connection import Out
from barlake.emulator.ws_server import WsKnobs

CATCH_UP = 1000  # most closed candles sent after a clock jump
CATCH_UP_TRADES_MS = 10 * 60_000  # most market time of trades sent after a clock jump
CANDLES_CACHED = 256

CandleRender = Callable[[str, str, Candle, int], Any]
TradeRender = Callable[[str, Trades, int], list[Any]]


@dataclass
class Feed:
    """What every stream of one server reads: the tape (and its truth), the order book
    derived from it (REST depth reads the same one), the knobs."""

    tape: Tape
    knobs: WsKnobs
    depth: BookModel = field(init=False, repr=False, compare=False)
    candle: Callable[[str, str, int, int], Candle | None] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.depth = BookModel(self.tape)
        # `ws_candles.candle` over this tape, (symbol, interval, open_ms, now_ms) → Candle:
        # at a close every connection subscribed to the candle asks for the same final one.
        self.candle = lru_cache(maxsize=CANDLES_CACHED)(partial(candle, self.tape))

    @property
    def book(self) -> MarketBook:
        return self.tape.book

    def period_s(self, market_ms: float, real_ms: float | None = None) -> float:
        """Real seconds between pushes of a stream updating every `market_ms` of market time
        (or every `real_ms` real ms when given), never faster than `min_push_ms`."""
        ms = real_ms if real_ms is not None else market_ms / speed_of(self.book.clock)
        return max(ms, self.knobs.min_push_ms) / 1000.0


class Stream:
    """One subscription; `poll` returns the payloads due at `now_ms` / real `now_s`."""

    def __init__(self, feed: Feed, symbol: str) -> None:
        self.feed, self.symbol = feed, symbol
        self.next_s = 0.0

    def due(self, now_s: float, period_s: float) -> bool:
        if now_s < self.next_s:
            return False
        self.next_s = now_s + period_s
        return True

    def poll(self, now_ms: int, now_s: float) -> list[Out]:
        return []


def pushes(streams: dict[str, Stream | None], now_ms: int) -> Iterator[tuple[str, Out]]:
    """(subscription name, payload) for everything the streams have due at `now_ms`; names
    a venue accepted but does not serve are None and stay silent."""
    now_s = time.monotonic()
    for name, stream in streams.items():
        if stream is not None:
            for out in stream.poll(now_ms, now_s):
                yield name, out


class KlineStream(Stream):
    """The forming candle every `period_ms` of market time, the final one at its close."""

    def __init__(
        self,
        feed: Feed,
        symbol: str,
        now_ms: int,
        interval: str,
        render: CandleRender,
        period_ms: float,
    ) -> None:
        super().__init__(feed, symbol)
        self.interval, self.render, self.period_ms = interval, render, period_ms
        self.open = floor_open(now_ms, interval)

    def poll(self, now_ms: int, now_s: float) -> list[Out]:
        outs: list[Out] = []
        current = floor_open(now_ms, self.interval)
        if current < self.open or current > shift_open(self.open, self.interval, CATCH_UP):
            self.open = current  # the clock jumped: start over at the current candle
        while self.open < current:
            final = self.feed.candle(self.symbol, self.interval, self.open, now_ms)
            if final is not None:
                mark = (self.symbol, self.interval, self.open)
                outs.append(Out(self.render(self.symbol, self.interval, final, now_ms), mark))
            self.open = shift_open(self.open, self.interval, 1)
            self.next_s = 0.0
        period = self.feed.period_s(self.period_ms, self.feed.knobs.kline_push_ms)
        if self.due(now_s, period):
            forming = self.feed.candle(self.symbol, self.interval, current, now_ms)
            if forming is not None:
                outs.append(Out(self.render(self.symbol, self.interval, forming, now_ms)))
        return outs


class TradeStream(Stream):
    """Every tape trade once the clock passes its time, rendered by the venue."""

    def __init__(self, feed: Feed, symbol: str, now_ms: int, render: TradeRender) -> None:
        super().__init__(feed, symbol)
        self.render = render
        self.after = now_ms  # trades up to here were history when the client subscribed

    def poll(self, now_ms: int, now_s: float) -> list[Out]:
        if now_ms <= self.after:
            self.after = min(self.after, now_ms)
            return []
        start = max(self.after + 1, now_ms - CATCH_UP_TRADES_MS)
        trades = self.feed.tape.between(self.symbol, start, now_ms + 1)
        self.after = now_ms
        return [Out(e) for e in self.render(self.symbol, trades, now_ms)] if len(trades) else []
