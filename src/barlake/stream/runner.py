"""`run_stream`: one live stream from settings to a flushed, closed sink.

It runs its own asyncio loop in the calling thread (the CLI's main thread, or one of the batch
runner's threads) and returns when `duration_s` has passed or `stop` is set; every record
handed to the sink is flushed before it returns. Bad settings (exchange, symbol, timeframe,
output) raise ConfigError before anything is written.

Knobs in `StreamConfig.options`: `stall_s` (no data for that long → replace the socket;
default 30 s for klines, 60 s otherwise), `reconnect_cap_s` (back-off cap, 30 s),
`drain_s` (how long shutdown waits for queued events, 5 s).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import replace
from typing import Any

from barlake.errors import ConfigError
from barlake.sources.exchanges import check_base_url
from barlake.sources.retry import RetryPolicy
from barlake.stream import exchange as venue
from barlake.stream.model import FORMATS, KINDS, MARKETS, Sink, StreamConfig, StreamMetrics
from barlake.stream.reconnect import Link
from barlake.stream.recorder import Event, OnUpdate, Recorder, Resync, Tick
from barlake.stream.snapshots import Latest, book_readers, sample, ticker_readers
from barlake.stream.tradebars import TradeBars
from barlake.stream.watch import ReadOnce, kline_readers, read_forever, supervise, trade_readers
from barlake.timeframes import parse_timeframe

log = logging.getLogger(__name__)

SINK_BUFFER = 1_000_000  # the sink never flushes by itself: the recorder groups commits


def run_stream(
    config: StreamConfig,
    *,
    stop: threading.Event | None = None,
    on_update: OnUpdate | None = None,
) -> StreamMetrics:
    """Stream until `config.duration_s` elapses or `stop` is set; returns the metrics."""
    check_config(config)
    metrics = StreamMetrics()
    asyncio.run(_run(config, metrics, stop or threading.Event(), on_update))
    return metrics


def check_config(config: StreamConfig) -> None:
    """What can be checked without the network."""
    for value, allowed, name in (
        (config.kind, KINDS, "stream"),
        (config.format, FORMATS, "format"),
        (config.market, MARKETS, "market"),
    ):
        if value not in allowed:
            raise ConfigError(f"bad {name} {value!r}: use one of {', '.join(allowed)}")
    parse_timeframe(config.timeframe)
    if not config.symbols:
        raise ConfigError("no symbol: give --symbol BTC/USDT (or --symbols A,B)")
    if config.trades_to_ohlcv and config.kind not in ("ohlcv", "trades"):
        raise ConfigError("--trades-to-ohlcv builds bars: use it with --stream ohlcv or trades")
    if config.ws_url and (problem := venue.check_ws_url(config.ws_url)):
        raise ConfigError(problem)
    if config.base_url and (problem := check_base_url(config.base_url)):
        raise ConfigError(problem)


async def _run(
    config: StreamConfig, metrics: StreamMetrics, stop: threading.Event, on_update: OnUpdate | None
) -> None:
    exchange = venue.build(
        config.exchange,
        market=config.market,
        symbol=config.symbols[0],
        base_url=config.base_url,
        ws_url=config.ws_url,
    )
    try:
        await venue.load_markets(exchange, RetryPolicy(base_s=0.5, cap_s=5.0))
        symbols = tuple(venue.resolve_symbol(exchange, s, config.market) for s in config.symbols)
        if config.kind == "ohlcv" and not config.trades_to_ohlcv:
            venue.check_timeframe(exchange, config.timeframe)
        resolved = replace(config, symbols=symbols)
        sink = open_sink(replace(resolved, flush_every=SINK_BUFFER))  # the recorder commits
        try:
            await Stream(exchange, resolved, sink, metrics, on_update).run(stop)
        finally:
            sink.close()
    finally:
        await exchange.close()


def open_sink(config: StreamConfig) -> Sink:
    """The configured sink; an output that cannot be written is a ConfigError."""
    from barlake.stream.sinks import open_sink as open_configured

    try:
        return open_configured(config)
    except OSError as error:
        raise ConfigError(f"cannot write {config.out or config.lake}: {error}") from error


class Stream:
    """The tasks of one stream: readers, watchdog, sampler, the recorder and a flush timer."""

    def __init__(
        self,
        exchange: Any,
        config: StreamConfig,
        sink: Sink,
        metrics: StreamMetrics,
        on_update: OnUpdate | None,
    ) -> None:
        self.exchange, self.config, self.metrics = exchange, config, metrics
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        options = config.options
        cap = float(options.get("reconnect_cap_s", 30.0))  # type: ignore[arg-type]
        default_stall = 30.0 if config.kind == "ohlcv" and not config.trades_to_ohlcv else 60.0
        self.link = Link(
            exchange,
            float(options.get("stall_s", default_stall)),  # type: ignore[arg-type]
            RetryPolicy(base_s=0.2, cap_s=cap),
            on_lost=lambda error: self.queue.put_nowait(Resync(str(error))),
        )
        self.recorder = Recorder(
            exchange,
            sink,
            metrics,
            timeframe=config.timeframe,
            flush_every=config.flush_every,
            on_update=on_update,
        )
        if config.trades_to_ohlcv:
            self.recorder.aggregate = TradeBars(self.recorder, config)
        self.drain_s = float(options.get("drain_s", 5.0))  # type: ignore[arg-type]

    def readers(self) -> tuple[list[ReadOnce], list[Any]]:
        """The reader callables, and any extra coroutines (the snapshot sampler)."""
        symbols, emit = list(self.config.symbols), self.queue.put_nowait
        kind = self.config.kind
        if kind == "trades" or self.config.trades_to_ohlcv:
            return trade_readers(self.exchange, symbols, emit), []
        if kind == "ohlcv":
            return kline_readers(self.exchange, symbols, self.config.timeframe, emit), []
        latest = Latest(self.link)
        interval = self.config.snapshot_interval_s
        sampler = sample(latest, kind, interval, emit)
        if kind == "ticker":
            return ticker_readers(self.exchange, symbols, latest), [sampler]
        return book_readers(self.exchange, symbols, self.config.depth, latest), [sampler]

    async def run(self, stop: threading.Event) -> None:
        reading, extra = self.readers()
        feeders = [asyncio.create_task(read_forever(self.link, r)) for r in reading]
        feeders += [asyncio.create_task(c) for c in [*extra, self.link.watchdog()]]
        consumer = asyncio.create_task(self._consume())
        timer = asyncio.create_task(self._flush_timer())
        watched = asyncio.create_task(supervise([*feeders, consumer, timer]))
        try:
            await self._until(stop, watched)
        finally:
            for task in [*feeders, timer, watched]:
                task.cancel()
            await asyncio.gather(*feeders, timer, watched, return_exceptions=True)
            await self._drain(consumer)
            self.recorder.flush(final=True)
            self._count()

    async def _until(self, stop: threading.Event, watched: asyncio.Task[None]) -> None:
        """Return at the deadline or on `stop`; re-raise if a task failed."""
        duration = self.config.duration_s
        deadline = None if duration is None else time.monotonic() + duration
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            if watched.done():
                watched.result()
                return
            await asyncio.sleep(0.05)
            self._count()

    def _count(self) -> None:
        self.metrics.reconnects = self.link.reconnects
        self.metrics.messages = self.link.messages

    async def _consume(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                await self.recorder.handle(event)
                self.recorder.settle(idle=self.queue.empty())
            finally:
                self.queue.task_done()

    async def _drain(self, consumer: asyncio.Task[None]) -> None:
        """Let the recorder finish what is queued (bounded), then stop it."""
        if not consumer.done():
            try:
                await asyncio.wait_for(self.queue.join(), self.drain_s)
            except TimeoutError:
                log.warning("stream: %d events left unwritten at shutdown", self.queue.qsize())
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)

    async def _flush_timer(self) -> None:
        """With --flush N > 1, records still reach disk within a second on a quiet stream;
        the tick also lets trades→bars close buckets no trade closed."""
        while True:
            await asyncio.sleep(1.0)
            self.recorder.flush()
            self.queue.put_nowait(Tick())
