"""Real ccxt instances pointed at a running emulator (PROTOCOLS §6.6), for tests and demos:
REST only (`binance`, `hyperliquid`) or ccxt.pro with the WebSockets too (`pro_*`)."""

from __future__ import annotations

from typing import Any

import ccxt


def binance(base_url: str, *, market: str = "spot", **config: Any) -> ccxt.binance:
    """`ccxt.binance` with its spot (and USD-M) public endpoints on `base_url`.

    `market="spot"` loads spot markets only (one exchangeInfo call); `"linear"` loads USD-M.
    """
    return _binance_rest(ccxt.binance(_settings(market, config)), base_url)


def hyperliquid(base_url: str, **config: Any) -> ccxt.hyperliquid:
    """`ccxt.hyperliquid` posting to `<base_url>/info`, swap (perp) markets only."""
    exchange = ccxt.hyperliquid(_settings("swap", config))
    exchange.urls["api"]["public"] = base_url
    return exchange


def pro_binance(base_url: str, ws_url: str, *, market: str = "spot", **config: Any) -> Any:
    """`ccxt.pro.binance`: REST as `binance`, spot streams on `ws_url` (`emu.binance_ws_url`).
    Create it inside the event loop that uses it and close it there."""
    import ccxt.pro

    exchange = _binance_rest(ccxt.pro.binance(_settings(market, config)), base_url)
    exchange.urls["api"]["ws"]["spot"] = ws_url
    return exchange


def pro_hyperliquid(base_url: str, ws_url: str, **config: Any) -> Any:
    """`ccxt.pro.hyperliquid`: `/info` on `base_url`, streams on `ws_url`
    (`emu.hyperliquid_ws_url`)."""
    import ccxt.pro

    exchange = ccxt.pro.hyperliquid(_settings("swap", config))
    exchange.urls["api"]["public"] = base_url
    exchange.urls["api"]["ws"]["public"] = ws_url
    return exchange


def _settings(market: str, config: dict[str, Any]) -> dict[str, Any]:
    """No client-side throttling (the emulator enforces the limits); only `market` loaded."""
    options = {"fetchMarkets": {"types": [market]}, **config.pop("options", {})}
    return {"enableRateLimit": False, "options": options, **config}


def _binance_rest(exchange: Any, base_url: str) -> Any:
    exchange.urls["api"]["public"] = f"{base_url}/api/v3"
    for key in ("fapiPublic", "fapiPublicV2", "fapiPublicV3", "fapiData"):
        exchange.urls["api"][key] = f"{base_url}/fapi/v1"
    return exchange
