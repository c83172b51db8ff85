"""Real ccxt instances pointed at a running emulator (PROTOCOLS §6.6), for tests and demos."""

from __future__ import annotations

from typing import Any

import ccxt


def binance(base_url: str, *, market: str = "spot", **config: Any) -> ccxt.binance:
    """`ccxt.binance` with its spot (and USD-M) public endpoints on `base_url`.

    `market="spot"` loads spot markets only (one exchangeInfo call); `"linear"` loads USD-M.
    """
    options = {"fetchMarkets": {"types": [market]}, **config.pop("options", {})}
    exchange = ccxt.binance({"enableRateLimit": False, "options": options, **config})
    exchange.urls["api"]["public"] = f"{base_url}/api/v3"
    for key in ("fapiPublic", "fapiPublicV2", "fapiPublicV3", "fapiData"):
        exchange.urls["api"][key] = f"{base_url}/fapi/v1"
    return exchange


def hyperliquid(base_url: str, **config: Any) -> ccxt.hyperliquid:
    """`ccxt.hyperliquid` posting to `<base_url>/info`, swap (perp) markets only."""
    options = {"fetchMarkets": {"types": ["swap"]}, **config.pop("options", {})}
    exchange = ccxt.hyperliquid({"enableRateLimit": False, "options": options, **config})
    exchange.urls["api"]["public"] = base_url
    return exchange
