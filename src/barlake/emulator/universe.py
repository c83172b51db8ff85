"""The synthetic instruments each emulated venue lists by default, and how `--symbols` picks them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from barlake.emulator.market import SymbolSpec, utc_ms

# One exchange-wide maintenance window: every Binance market has no bars inside it.
BINANCE_MAINTENANCE = (utc_ms("2025-03-12T02:00"), utc_ms("2025-03-12T04:00"))
HYPERLIQUID_MAINTENANCE = (utc_ms("2025-08-06T06:00"), utc_ms("2025-08-06T06:30"))

BINANCE_SPOT = (
    SymbolSpec("BTCUSDT", "BTC", "USDT", 42_000.0, price_decimals=2, qty_decimals=5, volume=8.0),
    SymbolSpec(
        "ETHUSDT", "ETH", "USDT", 2_300.0, listing_ms=utc_ms("2024-03-15T09:00"),
        price_decimals=2, qty_decimals=4, volume=60.0,
    ),
    SymbolSpec("SOLUSDT", "SOL", "USDT", 100.0, price_decimals=2, qty_decimals=3, volume=400.0),
    SymbolSpec(
        "BTCUSDC", "BTC", "USDC", 42_000.0, listing_ms=utc_ms("2024-06-01"),
        price_decimals=2, qty_decimals=5, volume=2.0,
    ),
    SymbolSpec(
        "LUNAUSDT", "LUNA", "USDT", 0.8, listing_ms=utc_ms("2024-02-01"),
        delisted_ms=utc_ms("2025-05-01"), price_decimals=4, qty_decimals=2, volume=5_000.0,
    ),
)  # fmt: skip

HYPERLIQUID = (
    SymbolSpec("BTC", "BTC", "USDC", 42_000.0, price_decimals=0, qty_decimals=5, volume=3.0),
    SymbolSpec("ETH", "ETH", "USDC", 2_300.0, price_decimals=1, qty_decimals=4, volume=40.0),
    SymbolSpec("SOL", "SOL", "USDC", 100.0, price_decimals=2, qty_decimals=2, volume=300.0),
)


def binance_spot(symbols: Sequence[str] | None = None) -> list[SymbolSpec]:
    """The default spot list, or the named symbols (known ones keep their spec)."""
    known = {spec.symbol: spec for spec in BINANCE_SPOT}
    names = [s.upper() for s in symbols] if symbols else list(known)
    specs = [known.get(name) or SymbolSpec.guess(name) for name in names]
    return [_with_hole(spec, BINANCE_MAINTENANCE) for spec in specs]


def binance_usdm(spot: Sequence[SymbolSpec]) -> list[SymbolSpec]:
    """USD-M perpetuals for every listed USDT spot pair (own seed; 0.1 tick, 0.001 lot)."""
    return [
        replace(spec, price_decimals=1, qty_decimals=3)
        for spec in spot
        if spec.quote == "USDT" and spec.delisted_ms is None
    ]


def hyperliquid(spot: Sequence[SymbolSpec] | None = None) -> list[SymbolSpec]:
    """Perps: the defaults, or one coin per base of the given USDT/USDC spot pairs."""
    if spot is None:
        return [_with_hole(spec, HYPERLIQUID_MAINTENANCE) for spec in HYPERLIQUID]
    known = {spec.symbol: spec for spec in HYPERLIQUID}
    bases = dict.fromkeys(s.base for s in spot if s.delisted_ms is None)
    specs = [known.get(b) or SymbolSpec.guess(b, quote="USDC", base=b) for b in bases]
    return [_with_hole(spec, HYPERLIQUID_MAINTENANCE) for spec in specs]


def _with_hole(spec: SymbolSpec, hole: tuple[int, int]) -> SymbolSpec:
    return spec if spec.hole is not None else replace(spec, hole=hole)
