"""Ticker and order-book snapshots: readers keep the latest state per symbol, a sampler writes
one row per symbol every `interval_s` (top `depth` levels for the book).

A state is sampled only if it arrived on the current connection and within the stall window,
so a dead socket never produces rows that look live. Binance groups symbols on one socket
(`watch_tickers`, `watch_order_book_for_symbols`); other venues get one task per symbol.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from barlake.dates import now_ms
from barlake.stream.model import Snapshot
from barlake.stream.reconnect import Link
from barlake.stream.watch import ReadOnce

TICKER_FIELDS = {
    "last": "last",
    "bid": "bid",
    "bid_size": "bidVolume",
    "ask": "ask",
    "ask_size": "askVolume",
    "open": "open",
    "high": "high",
    "low": "low",
    "base_volume": "baseVolume",
    "quote_volume": "quoteVolume",
}


@dataclass
class Latest:
    """The newest state of each symbol and the link epoch it arrived on."""

    link: Link
    states: dict[str, tuple[int, float, Any]] = field(default_factory=dict)

    def keep(self, symbol: str, state: Any) -> None:
        self.states[symbol] = (self.link.epoch, time.monotonic(), state)

    def fresh(self) -> dict[str, Any]:
        horizon = time.monotonic() - self.link.stall_s
        return {
            symbol: state
            for symbol, (epoch, seen, state) in self.states.items()
            if epoch == self.link.epoch and seen >= horizon
        }


def ticker_readers(exchange: Any, symbols: list[str], latest: Latest) -> list[ReadOnce]:
    # Binance's grouped default is the mini ticker, which has no bid/ask
    params = {"name": "ticker"} if exchange.id.startswith("binance") else {}
    if len(symbols) > 1 and exchange.has.get("watchTickers"):

        async def grouped() -> None:
            tickers = await exchange.watch_tickers(symbols, params)
            for symbol, ticker in tickers.items():
                latest.keep(symbol, dict(ticker))

        return [grouped]

    def one(symbol: str) -> ReadOnce:
        async def read() -> None:
            latest.keep(symbol, dict(await exchange.watch_ticker(symbol)))

        return read

    return [one(symbol) for symbol in symbols]


def book_readers(exchange: Any, symbols: list[str], depth: int, latest: Latest) -> list[ReadOnce]:
    limit = book_limit(depth)
    if len(symbols) > 1 and exchange.has.get("watchOrderBookForSymbols"):

        async def grouped() -> None:
            book = await exchange.watch_order_book_for_symbols(symbols, limit)
            latest.keep(book["symbol"], top_levels(book, depth))

        return [grouped]

    def one(symbol: str) -> ReadOnce:
        async def read() -> None:
            latest.keep(symbol, top_levels(await exchange.watch_order_book(symbol, limit), depth))

        return read

    return [one(symbol) for symbol in symbols]


def book_limit(depth: int) -> int | None:
    """Book size to ask for: venues accept a few fixed sizes; None lets ccxt choose."""
    return next((size for size in (5, 10, 20, 50, 100, 500, 1000) if size >= depth), None)


def top_levels(book: Any, depth: int) -> dict[str, float | None]:
    """`bid_px_0`, `bid_sz_0`, ..., `ask_sz_{depth-1}` (None where the book is thinner)."""
    row: dict[str, float | None] = {}
    for side in ("bid", "ask"):
        levels = list(book[f"{side}s"][:depth])
        for i in range(depth):
            price, size = (levels[i][0], levels[i][1]) if i < len(levels) else (None, None)
            row[f"{side}_px_{i}"] = price
            row[f"{side}_sz_{i}"] = size
    return row


def ticker_row(ticker: dict[str, Any]) -> dict[str, float | None]:
    return {name: _number(ticker.get(key)) for name, key in TICKER_FIELDS.items()}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


async def sample(
    latest: Latest,
    kind: str,
    interval_s: float,
    emit: Callable[[list[Snapshot]], None],
    clock: Callable[[], int] = now_ms,
) -> None:
    """Every `interval_s`, one snapshot per symbol with a fresh state (until cancelled)."""
    shape = ticker_row if kind == "ticker" else dict
    while True:
        await asyncio.sleep(interval_s)
        stamp = clock()
        rows = [Snapshot(s, kind, stamp, shape(state)) for s, state in latest.fresh().items()]
        if rows:
            emit(rows)
