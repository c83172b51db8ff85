"""Real ccxt instances for an instruments row: markets narrowed to the row's type, every REST
endpoint moved onto the row's `base_url` (testnets, proxies, mirrors, the emulator), keys
from the environment. One instance per worker thread: ccxt's sync client is not shared."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import ccxt

from barlake.errors import ConfigError
from barlake.sources.credentials import credentials

DERIVATIVE_TYPES = ("linear", "inverse", "swap", "future")


def exchange_class(exchange_id: str) -> type[ccxt.Exchange]:
    """The ccxt class for an id, or a ConfigError that says how to list the valid ones."""
    cls = getattr(ccxt, exchange_id, None) if exchange_id in ccxt.exchanges else None
    if cls is None:
        raise ConfigError(
            f"unknown exchange {exchange_id!r}: use a ccxt id such as binance, okx, bybit, "
            "hyperliquid (python -c 'import ccxt; print(ccxt.exchanges)' lists them all)"
        )
    return cls


def open_exchange(
    exchange_id: str,
    *,
    market: str = "spot",
    symbol: str | None = None,
    base_url: str | None = None,
    timeout_s: float = 10.0,
) -> ccxt.Exchange:
    """A ccxt instance that loads only `market` markets; no rate limiter (the sync budgets)."""
    cls = exchange_class(exchange_id)
    exchange = cls(
        {"enableRateLimit": False, "timeout": int(timeout_s * 1000), "enableLastJsonResponse": True}
    )
    narrow_and_sign(exchange, exchange_id, market=market, symbol=symbol)
    if base_url:
        exchange.urls["api"] = rebase(exchange.urls["api"], base_url, exchange.hostname)
    _track_status(exchange)
    return exchange


def narrow_and_sign(exchange: Any, exchange_id: str, *, market: str, symbol: str | None) -> None:
    """Load only `market` markets (`market_types`) and set the keys from the environment; the
    same for a ccxt and a ccxt.pro instance."""
    exchange.options["fetchMarkets"] = market_types(
        exchange.options.get("fetchMarkets"), market, symbol
    )
    for key, value in credentials(exchange_id).items():
        setattr(exchange, key, value)


def _track_status(exchange: ccxt.Exchange) -> None:
    """Keep the last HTTP status on the instance (`last_http_status`, None when no answer came):
    ccxt maps statuses onto exception classes inconsistently (500 → OperationFailed, 502 →
    ExchangeNotAvailable, 403 → ExchangeNotAvailable), so retry decisions read the status."""
    original = exchange.on_rest_response
    exchange.last_http_status = None

    def on_rest_response(code: int, reason: str, *rest: Any) -> Any:
        exchange.last_http_status = code
        return original(code, reason, *rest)

    exchange.on_rest_response = on_rest_response


def market_types(default: Any, market: str, symbol: str | None) -> Any:
    """Narrow ccxt's `fetchMarkets` types to the row's market, so load_markets calls only the
    endpoints that market needs (binance: spot → /api/v3, swap → /fapi/v1)."""
    types = default.get("types") if isinstance(default, dict) else default
    if not isinstance(types, list):
        return default
    if market == "spot":
        wanted = ["spot"]
    else:
        settle = symbol.partition(":")[2] if symbol else ""
        quote = symbol.partition("/")[2].partition(":")[0] if symbol else ""
        kind = "inverse" if settle and quote and settle != quote else "linear"
        wanted = [kind] if kind in types else [t for t in (market, "swap") if t in types][:1]
    chosen = [t for t in wanted if t in types] or types
    return {**default, "types": chosen} if isinstance(default, dict) else chosen


def rebase(urls: Any, base_url: str, hostname: str | None, *, path: bool = False) -> Any:
    """Every URL in ccxt's `urls['api']` tree with its scheme and host replaced by base_url's;
    with `path`, its path and query too when base_url has a path (a WebSocket root)."""
    if isinstance(urls, dict):
        return {key: rebase(value, base_url, hostname, path=path) for key, value in urls.items()}
    if not isinstance(urls, str) or "://" not in urls:
        return urls
    target = urlsplit(base_url.rstrip("/"))
    parts = urlsplit(urls.replace("{hostname}", hostname or ""))
    moved = parts._replace(scheme=target.scheme, netloc=target.netloc)
    if path and target.path:
        moved = moved._replace(path=target.path, query=target.query)
    return moved.geturl()


def check_base_url(base_url: str) -> str | None:
    """None if usable, else what is wrong (the instruments file checks this too)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"base_url {base_url!r} must be scheme + host[:port], e.g. https://api.binance.com"
    return None
