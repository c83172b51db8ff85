"""Reader tasks: each awaits one ccxt.pro `watch_*` call after another and turns what arrives
into events for the recorder's queue, forever, through drops and redials.

Subscriptions are grouped where the venue allows (Binance: one socket for all symbols via
`watch_ohlcv_for_symbols` / `watch_trades_for_symbols`); elsewhere one task per symbol shares
the instance's socket. On Binance the klines themselves come through the kline tap (with their
closed flag), and the reader only keeps the subscription alive. ccxt.pro re-subscribes by itself
on the next `watch_*` after a drop; the back-off between dials is the link's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt

from barlake.stream.exchange import Candle, has_kline_flag
from barlake.stream.model import Trade
from barlake.stream.reconnect import Link
from barlake.stream.recorder import Event, TradeBatch

log = logging.getLogger(__name__)

ReadOnce = Callable[[], Awaitable[None]]
Emit = Callable[[Event], None]


async def read_forever(link: Link, read_once: ReadOnce) -> None:
    """Call `read_once` until cancelled; any ccxt failure is a lost connection: report it to
    the link (once per drop across tasks), wait out the back-off, read again."""
    while True:
        epoch = link.epoch
        await link.wait_ready()
        try:
            while True:
                await read_once()
                link.heard()
        except ccxt.BaseError as error:
            if not isinstance(error, ccxt.NetworkError):
                log.warning("%s: %s: %s", link.exchange.id, type(error).__name__, error)
            link.lost(epoch, error)


def kline_readers(exchange: Any, symbols: list[str], timeframe: str, emit: Emit) -> list[ReadOnce]:
    """Readers for candles: the tap on Binance, grouped or per-symbol results elsewhere."""
    pairs = [[symbol, timeframe] for symbol in symbols]
    if has_kline_flag(exchange):
        exchange.kline_tap = emit

        async def keep_subscribed() -> None:
            await exchange.watch_ohlcv_for_symbols(pairs)

        return [keep_subscribed]
    if len(symbols) > 1 and exchange.has.get("watchOHLCVForSymbols"):

        async def grouped() -> None:
            result = await exchange.watch_ohlcv_for_symbols(pairs)
            received = time.perf_counter()
            for symbol, frames in result.items():
                for frame, rows in frames.items():
                    _emit_rows(emit, symbol, frame, rows, received)

        return [grouped]
    return [_one_kline_reader(exchange, symbol, timeframe, emit) for symbol in symbols]


def _one_kline_reader(exchange: Any, symbol: str, timeframe: str, emit: Emit) -> ReadOnce:
    async def one() -> None:
        rows = await exchange.watch_ohlcv(symbol, timeframe)
        _emit_rows(emit, symbol, timeframe, rows, time.perf_counter())

    return one


def _emit_rows(emit: Emit, symbol: str, frame: str, rows: list[list[Any]], received: float) -> None:
    """ccxt.pro hands back the candles updated since the last read, oldest first."""
    for row in sorted(rows, key=lambda r: r[0]):
        o, h, low, c, v = (float(x) for x in row[1:6])
        emit(Candle(symbol, frame, int(row[0]), o, h, low, c, v, None, received))


def trade_readers(exchange: Any, symbols: list[str], emit: Emit) -> list[ReadOnce]:
    """Readers for public trades: one grouped subscription where the venue has one."""
    if len(symbols) > 1 and exchange.has.get("watchTradesForSymbols"):

        async def grouped() -> None:
            _emit_trades(emit, await exchange.watch_trades_for_symbols(symbols))

        return [grouped]

    def one(symbol: str) -> ReadOnce:
        async def read() -> None:
            _emit_trades(emit, await exchange.watch_trades(symbol))

        return read

    return [one(symbol) for symbol in symbols]


def _emit_trades(emit: Emit, raw: list[dict[str, Any]]) -> None:
    received = time.perf_counter()
    by_symbol: dict[str, list[Trade]] = {}
    for item in raw:
        trade = Trade(
            item["symbol"],
            int(item["timestamp"]),
            float(item["price"]),
            float(item["amount"]),
            str(item.get("side") or ""),
            str(item.get("id") or ""),
        )
        by_symbol.setdefault(trade.symbol, []).append(trade)
    for symbol, trades in by_symbol.items():
        emit(TradeBatch(symbol, trades, received))


async def supervise(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait on long-running tasks; one that ends with an error takes the stream down with it
    (a bug must not be a silent stop)."""
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
