"""The emulator: four loopback servers (Binance REST, Binance archive, Hyperliquid, Dukascopy)
on one background event loop, started and stopped from synchronous code.

    with Emulator(faults="binance:500x2", clock=Accelerated(start_ms, speed=60)) as emu:
        emu.base_url                       # http://127.0.0.1:P   (/api/v3, /fapi/v1)
        emu.binance_ws_url                 # ws://127.0.0.1:P/stream  (also /ws, /ws/<stream>)
        emu.archive_url                    # http://127.0.0.1:Q   (/data/spot/...)
        emu.hyperliquid_url                # http://127.0.0.1:R   (POST /info)
        emu.hyperliquid_ws_url             # ws://127.0.0.1:R/ws
        emu.dukascopy_url                  # http://127.0.0.1:S   (/datafeed/..., /v1/...)
        emu.binance.faults.add("429", retry_after=2)
        emu.binance_ws.drop_all()          # WS knobs and counters: see ws_server.WsServer
        emu.bars("BTCUSDT", start_ms, end_ms)   # closed 1m ground truth, lake shape
        emu.trades("BTCUSDT", start_ms, end_ms) # the trade tape up to the clock
        emu.dukascopy_bars("EURUSD", start_ms, end_ms, side="mid")
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from functools import partial
from types import TracebackType

import pyarrow as pa
from aiohttp import web

from barlake.emulator import (
    binance_archive,
    binance_rest,
    dukascopy,
    hyperliquid,
    universe,
    ws_binance,
    ws_hyperliquid,
)
from barlake.emulator.binance_archive import ArchiveRules
from barlake.emulator.binance_wire import Books
from barlake.emulator.dukascopy import DukascopyRules
from barlake.emulator.dukascopy_market import FxBook
from barlake.emulator.faults import VENUES, WS_VENUES, parse
from barlake.emulator.limits import WeightLimiter
from barlake.emulator.market import MarketBook, wall_clock_ms
from barlake.emulator.pipeline import Venue
from barlake.emulator.trades import Tape
from barlake.emulator.ws_book import Book
from barlake.emulator.ws_server import WsKnobs, WsServer, mount
from barlake.emulator.ws_streams import Feed

HOST = "127.0.0.1"


class Emulator:
    """Loopback Binance + archive + Hyperliquid + Dukascopy servers over one deterministic
    synthetic truth.

    `port=0` picks free ports; `port=N` serves Binance on N, the archive on N+1,
    Hyperliquid on N+2 and Dukascopy (bi5 datafeed and JSON API) on N+3; the Binance and
    Hyperliquid WebSockets share their REST ports. Budgets are request weight per
    `weight_window_s` (60 s as on the real venues; tests shorten it) and None means
    unlimited. `clock` is the market clock every server reads (e.g. `clock.Accelerated`);
    `trade_cap` caps the tape's trades per minute.
    """

    def __init__(
        self,
        *,
        symbols: Sequence[str] | None = None,
        faults: str | list[str] | None = None,
        port: int = 0,
        spot_budget: int | None = 6000,
        usdm_budget: int | None = 2400,
        hyperliquid_budget: int | None = 1200,
        ban_seconds: int = 120,
        weight_window_s: int = 60,
        first_monday: bool = True,
        clock: Callable[[], int] = wall_clock_ms,
        trade_cap: int = 60,
    ) -> None:
        self.clock = clock
        self._truth(symbols)
        limiter = partial(WeightLimiter, ban_seconds=ban_seconds, window_s=weight_window_s)
        limiters = {
            "binance": {"/api/": limiter(spot_budget), "/fapi/": limiter(usdm_budget)},
            "hyperliquid": {"/info": limiter(hyperliquid_budget)},
        }
        # The servers by name, in port order: knobs, reset, ports and URLs all follow it.
        self.venues = {name: Venue(name, clock, limiters.get(name, {})) for name in VENUES}
        self.binance, self.archive = self.venues["binance"], self.venues["archive"]
        self.hyperliquid, self.dukascopy = self.venues["hyperliquid"], self.venues["dukascopy"]
        self.archive_rules = ArchiveRules(first_monday)
        self.dukascopy_rules = DukascopyRules()
        self._live(trade_cap)
        self.configure(faults)
        self._ports = {name: port + i if port else 0 for i, name in enumerate(self.venues)}
        self._urls: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _truth(self, symbols: Sequence[str] | None) -> None:
        """The synthetic markets of every venue, on the one clock."""
        spot = universe.binance_spot(symbols)
        self.books = Books(
            MarketBook(spot, "binance", self.clock),
            MarketBook(universe.binance_usdm(spot), "binance_usdm", self.clock),
        )
        coins = universe.hyperliquid(None if symbols is None else spot)
        self.hyperliquid_book = MarketBook(coins, "hyperliquid", self.clock)
        self.dukascopy_book = FxBook(clock=self.clock)

    def _live(self, trade_cap: int) -> None:
        """The trade tapes, the two WebSocket servers (knobs, counters) by fault-spec name,
        and the feeds their streams (and the REST trade endpoints) read."""
        self.tape = Tape(self.books.spot, trade_cap)
        self.hyperliquid_tape = Tape(self.hyperliquid_book, trade_cap)
        self.binance_ws = WsServer("binance_ws", self.clock)
        # Hyperliquid sends no pings and allows 2000 messages a minute (about 30 a second).
        hl_knobs = WsKnobs(ping_interval_s=None, max_inbound_per_s=30)
        self.hyperliquid_ws = WsServer("hyperliquid_ws", self.clock, hl_knobs)
        self.ws_servers = {ws.name: ws for ws in (self.binance_ws, self.hyperliquid_ws)}
        self.binance_feed = Feed(self.tape, self.binance_ws.knobs)
        self.hyperliquid_feed = Feed(self.hyperliquid_tape, self.hyperliquid_ws.knobs)

    # -- knobs and truth -------------------------------------------------------------------

    def venue(self, name: str) -> Venue:
        return self.venues[name]

    def configure(self, faults: str | list[str] | None) -> None:
        """Apply a fault spec (see `barlake.emulator.faults`), e.g. `"500x3,archive:checksum"`."""
        for setting in parse(faults):
            if setting.venue in WS_VENUES:
                self.ws_server(setting.venue).configure(setting.kind, setting.value, setting.times)
                continue
            venue = self.venue(setting.venue)
            if setting.kind != "budget":
                setting.apply(venue.faults)
                continue
            for limiter in venue.limiters.values():
                limiter.budget = int(setting.value) if setting.value else None

    def ws_server(self, name: str) -> WsServer:
        """`binance_ws` or `hyperliquid_ws`: knobs, fault actions, counters."""
        return self.ws_servers[name]

    def reset(self) -> None:
        """Clear faults, bans, weight and request logs on every server."""
        for venue in self.venues.values():
            venue.reset()
        for server in self.ws_servers.values():
            server.reset()

    def bars(self, symbol: str, start_ms: int, end_ms: int) -> pa.Table:
        """Binance spot ground truth: closed 1m bars with open in [start_ms, end_ms)."""
        return self.books.spot.bars(symbol, start_ms, end_ms)

    def usdm_bars(self, symbol: str, start_ms: int, end_ms: int) -> pa.Table:
        return self.books.usdm.bars(symbol, start_ms, end_ms)

    def hyperliquid_bars(self, coin: str, start_ms: int, end_ms: int) -> pa.Table:
        return self.hyperliquid_book.bars(coin, start_ms, end_ms)

    def trades(self, symbol: str, start_ms: int, end_ms: int) -> pa.Table:
        """Binance spot tape in [start_ms, end_ms) up to the clock: id, timestamp_ms, price,
        amount, side (the taker's). Aggregated to 1m it equals `bars` exactly."""
        return self.tape.happened(symbol, start_ms, end_ms).to_table()

    def hyperliquid_trades(self, coin: str, start_ms: int, end_ms: int) -> pa.Table:
        """Hyperliquid tape; the wire's `tid` is `id · 16 + the coin's index`."""
        return self.hyperliquid_tape.happened(coin, start_ms, end_ms).to_table()

    def order_book(self, symbol: str, update_id: int | None = None) -> Book:
        """The synthetic spot book at `update_id` (default: now), as REST depth serves it."""
        model = self.binance_feed.depth
        return model.book(symbol, model.update_id(self.clock()) if update_id is None else update_id)

    @property
    def ws_sent_closed(self) -> dict[tuple[str, str, int], float]:
        """(symbol, interval, open_ms) → time.time() when the Binance `x: true` kline went out."""
        return self.binance_ws.sent_closed

    def dukascopy_bars(self, code: str, start_ms: int, end_ms: int, side: str = "bid") -> pa.Table:
        """Dukascopy ground truth: closed 1m bars of minutes with quotes (no flats), `side`
        bid, ask or mid, prices scaled, volumes in millions."""
        return self.dukascopy_book.bars(code, start_ms, end_ms, side)

    # -- addresses -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Binance REST root (scheme + host + port); `/api/v3` and `/fapi/v1` live under it."""
        return self._url("binance")

    @property
    def binance_ws_url(self) -> str:
        """Binance spot streams, combined (`/stream`); ccxt.pro appends `/<n>` (PROTOCOLS §6.7)."""
        return self._url("binance").replace("http://", "ws://", 1) + "/stream"

    @property
    def hyperliquid_ws_url(self) -> str:
        return self._url("hyperliquid").replace("http://", "ws://", 1) + "/ws"

    @property
    def archive_url(self) -> str:
        return self._url("archive")

    @property
    def hyperliquid_url(self) -> str:
        return self._url("hyperliquid")

    @property
    def dukascopy_url(self) -> str:
        """Dukascopy root: `/datafeed/...` (bi5) and `/v1/...` (JSON API) live under it."""
        return self._url("dukascopy")

    def _url(self, name: str) -> str:
        if not self._urls:
            raise RuntimeError("the emulator is not running: use `with Emulator() as emu:`")
        return self._urls[name]

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Emulator:
        self._ready.clear()
        self._thread = threading.Thread(target=self._serve, name="barlake-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"emulator failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        self._thread = self._loop = None
        self._urls = {}

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _app(self, name: str) -> web.Application:
        """The named server's app; Binance and Hyperliquid with their WebSockets mounted."""
        if name == "binance":
            app = binance_rest.build(self.books, self.binance, self.binance_feed)
            feed, ws = self.binance_feed, self.binance_ws
            mount(app, ws, ws_binance.BinanceWs(feed, ws.counters), ws_binance.PATHS)
            return app
        if name == "archive":
            return binance_archive.build(self.books, self.archive, self.archive_rules)
        if name == "hyperliquid":
            app = hyperliquid.build(self.hyperliquid_book, self.hyperliquid, self.hyperliquid_tape)
            feed, ws = self.hyperliquid_feed, self.hyperliquid_ws
            mount(app, ws, ws_hyperliquid.HyperliquidWs(feed, ws.counters), ws_hyperliquid.PATHS)
            return app
        if name == "dukascopy":
            return dukascopy.build(self.dukascopy_book, self.dukascopy, self.dukascopy_rules)
        raise KeyError(name)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runners: list[web.AppRunner] = []
        try:
            for name, port in self._ports.items():
                runner = web.AppRunner(self._app(name), access_log=None, shutdown_timeout=0.2)
                loop.run_until_complete(runner.setup())
                runners.append(runner)
                loop.run_until_complete(web.TCPSite(runner, HOST, port).start())
                self._urls[name] = f"http://{HOST}:{runner.addresses[0][1]}"
        except BaseException as error:  # reported to start() in the caller's thread
            self._error = error
        self._loop = loop
        self._ready.set()
        if self._error is None:
            loop.run_forever()
        for runner in runners:
            loop.run_until_complete(runner.cleanup())
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
