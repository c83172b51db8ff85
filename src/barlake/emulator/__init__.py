"""Loopback servers that speak the Binance (REST, bulk archive) and Hyperliquid wire formats
over a deterministic synthetic truth, with fault injection. Used by tests, `barlake demo`
and `barlake emulate`; needs aiohttp (and ccxt for `clients`)."""

from barlake.emulator.faults import Fault, Faults
from barlake.emulator.journal import Entry, Journal
from barlake.emulator.limits import WeightLimiter
from barlake.emulator.market import Bars, Market, MarketBook, SymbolSpec, utc_ms
from barlake.emulator.server import Emulator

__all__ = [
    "Bars",
    "Emulator",
    "Entry",
    "Fault",
    "Faults",
    "Journal",
    "Market",
    "MarketBook",
    "SymbolSpec",
    "WeightLimiter",
    "utc_ms",
]
