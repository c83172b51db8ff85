"""Loopback servers that speak the Binance (REST, bulk archive, WebSocket streams) and
Hyperliquid (info API, WebSocket) wire formats over a deterministic synthetic truth and
trade tape, on a real or accelerated market clock, with fault injection. Used by tests,
`barlake demo` and `barlake emulate`; needs aiohttp (and ccxt for `clients`)."""

from barlake.emulator.clock import Accelerated
from barlake.emulator.faults import Fault, Faults
from barlake.emulator.journal import Entry, Journal
from barlake.emulator.limits import WeightLimiter
from barlake.emulator.market import Bars, Market, MarketBook, SymbolSpec, utc_ms
from barlake.emulator.server import Emulator
from barlake.emulator.trades import Tape
from barlake.emulator.ws_server import WsCounters, WsKnobs, WsServer

__all__ = [
    "Accelerated",
    "Bars",
    "Emulator",
    "Entry",
    "Fault",
    "Faults",
    "Journal",
    "Market",
    "MarketBook",
    "SymbolSpec",
    "Tape",
    "WeightLimiter",
    "WsCounters",
    "WsKnobs",
    "WsServer",
    "utc_ms",
]
