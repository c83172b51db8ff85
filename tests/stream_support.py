"""Shared by the streaming tests: an emulator on an accelerated clock, stream settings pointed
at it, and the ground truth next to what a SQLite sink holds."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from barlake.emulator import Accelerated, Emulator, utc_ms
from barlake.stream.model import StreamConfig
from barlake.stream.recorder import StreamUpdate

START = utc_ms("2026-11-20T12:00:30")  # half a minute before a close
MINUTE = 60_000
COLUMNS = ("timestamp_ms", "open", "high", "low", "close", "volume")
COINS = {"BTC/USDC:USDC": "BTC", "ETH/USDC:USDC": "ETH"}


@contextmanager
def emulator(speed: float = 60.0, **kwargs: Any) -> Iterator[Emulator]:
    """Binance and Hyperliquid with BTC and ETH, one market minute per real second (at 60)."""
    clock = Accelerated(START, speed=speed)
    with Emulator(clock=clock, symbols=["BTCUSDT", "ETHUSDT"], **kwargs) as emu:
        yield emu


def settings(emu: Emulator, out: Path, venue: str = "binance", **kwargs: Any) -> StreamConfig:
    """A stream of `venue` (binance spot or hyperliquid swap) into the SQLite file `out`."""
    if venue == "hyperliquid":
        urls = {"base_url": emu.hyperliquid_url, "ws_url": emu.hyperliquid_ws_url}
        kwargs.setdefault("symbols", ("BTC/USDC:USDC",))
        kwargs.setdefault("market", "swap")
    else:
        urls = {"base_url": emu.base_url, "ws_url": emu.binance_ws_url}
        kwargs.setdefault("symbols", ("BTC/USDT",))
    return StreamConfig(venue, out=out, **urls, **kwargs)


def stored(path: Path, table: str = "ohlcv") -> dict[str, list[tuple[Any, ...]]]:
    """Bars in the sink by symbol, oldest first, as (timestamp_ms, o, h, l, c, v) tuples."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            f"SELECT symbol, {', '.join(COLUMNS)} FROM {table} ORDER BY symbol, timestamp_ms"
        ).fetchall()
    found: dict[str, list[tuple[Any, ...]]] = {}
    for symbol, *values in rows:
        found.setdefault(symbol, []).append(tuple(values))
    return found


def truth(emu: Emulator, symbol: str, start: int, end: int) -> list[tuple[Any, ...]]:
    """The emulator's closed 1m bars for a unified symbol, in the same tuple shape."""
    if symbol in COINS:
        table = emu.hyperliquid_bars(COINS[symbol], start, end)
    else:
        table = emu.bars(symbol.replace("/", ""), start, end)
    return [tuple(row[c] for c in COLUMNS) for row in table.to_pylist()]


def assert_every_bar_once(emu: Emulator, bars: dict[str, list[tuple[Any, ...]]]) -> None:
    """Each symbol's stored bars are consecutive minutes equal to the truth, float `==`."""
    for symbol, rows in bars.items():
        first, last = rows[0][0], rows[-1][0]
        expected = truth(emu, symbol, first, last + MINUTE)
        assert [r[0] for r in rows] == list(range(first, last + MINUTE, MINUTE)), symbol
        assert rows == expected, symbol


class Updates:
    """Collects what `on_update` reports, with the wall time each report came."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, StreamUpdate]] = []

    def __call__(self, update: StreamUpdate) -> None:
        self.seen.append((time.time(), update))

    def of(self, kind: str) -> list[tuple[float, StreamUpdate]]:
        return [(at, u) for at, u in self.seen if u.kind == kind]
