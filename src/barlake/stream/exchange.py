"""ccxt.pro instances for a stream: REST rebased onto `base_url` like `sources.exchanges`, the
WebSocket endpoints moved onto `ws_url`, keys from the environment, markets loaded.

Binance drops the kline's closed flag (`k.x`, PROTOCOLS §3.3, §6.7) on the way into ccxt.pro's
candle cache, so its class is subclassed here and the kline handler passes every raw kline to a
`kline_tap` before ccxt consumes it: that handler is the protocol seam, nothing else is touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import ccxt
import ccxt.pro as ccxtpro

from barlake.errors import ConfigError, SourceError, UnavailableError
from barlake.sources.credentials import credentials
from barlake.sources.exchanges import market_types, rebase
from barlake.sources.retry import RetryPolicy

log = logging.getLogger(__name__)


class Candle(NamedTuple):
    """One candle update as pushed: `closed` is the venue's final flag (None: it has none)."""

    symbol: str
    timeframe: str
    timestamp_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool | None
    received: float  # time.perf_counter() at arrival, for latency


KlineTap = Callable[[Candle], None]


class BinanceKlineTap:
    """Mixin for ccxt.pro's binance family: every `kline` event goes to `self.kline_tap` with
    its `x` flag, then to ccxt as usual. A malformed kline is logged and left to ccxt."""

    kline_tap: KlineTap | None = None

    def handle_ohlcv(self, client: Any, message: dict[str, Any]) -> Any:
        tap = self.kline_tap
        if tap is not None and message.get("e") == "kline":
            try:
                tap(self._tapped(client, message["k"]))
            except (KeyError, TypeError, ValueError) as error:
                log.warning("%s: unreadable kline %r: %s", client.url, message, error)
        return super().handle_ohlcv(client, message)  # type: ignore[misc]

    def _tapped(self, client: Any, kline: dict[str, Any]) -> Candle:
        ex: Any = self
        kind = "spot" if ex.is_spot_url(client) else "contract"
        return Candle(
            ex.safe_symbol(kline["s"], None, None, kind),
            ex.find_timeframe(kline["i"]),
            int(kline["t"]),
            float(kline["o"]),
            float(kline["h"]),
            float(kline["l"]),
            float(kline["c"]),
            float(kline["v"]),
            bool(kline["x"]),
            perf_counter(),
        )


def pro_class(exchange_id: str) -> type[Any]:
    """The ccxt.pro class (Binance's with the kline tap), or a ConfigError saying what exists."""
    cls = getattr(ccxtpro, exchange_id, None) if exchange_id in ccxtpro.exchanges else None
    if cls is None:
        known = "binance, okx, bybit, hyperliquid"
        raise ConfigError(
            f"unknown exchange {exchange_id!r} for streaming: use a ccxt.pro id such as {known}"
            " (python -c 'import ccxt.pro; print(ccxt.pro.exchanges)' lists them all)"
        )
    if issubclass(cls, ccxtpro.binance):
        return type(f"Tapped{cls.__name__}", (BinanceKlineTap, cls), {})
    return cls


def has_kline_flag(exchange: Any) -> bool:
    """True when closed klines are flagged by the venue (we tap the flag), else a bar is final
    only once a later one starts."""
    return isinstance(exchange, BinanceKlineTap)


def build(
    exchange_id: str,
    *,
    market: str = "spot",
    symbol: str | None = None,
    base_url: str | None = None,
    ws_url: str | None = None,
    timeout_s: float = 10.0,
) -> Any:
    """A ccxt.pro instance pointed at base_url/ws_url; construct it inside the running loop."""
    cls = pro_class(exchange_id)
    exchange = cls({"timeout": int(timeout_s * 1000), "options": {"tradesLimit": 10_000}})
    exchange.options["fetchMarkets"] = market_types(
        exchange.options.get("fetchMarkets"), market, symbol
    )
    for key, value in credentials(exchange_id).items():
        setattr(exchange, key, value)
    api = exchange.urls["api"]
    ws = api.get("ws") if isinstance(api, dict) else None
    if base_url:
        rest = {key: value for key, value in api.items() if key != "ws"}
        api = {**rebase(rest, base_url, exchange.hostname), "ws": ws}
    if ws is not None and (ws_url or base_url):
        api["ws"] = rebase_ws(ws, ws_url or _ws_root(base_url or ""), exchange.hostname)
    exchange.urls["api"] = api
    return exchange


def rebase_ws(urls: Any, ws_url: str, hostname: str | None) -> Any:
    """Every WebSocket URL in ccxt's tree moved onto ws_url: its scheme and host always, and
    its path too when ws_url has one (ccxt appends stream ids such as `/0` itself)."""
    if isinstance(urls, dict):
        return {key: rebase_ws(value, ws_url, hostname) for key, value in urls.items()}
    if not isinstance(urls, str) or "://" not in urls:
        return urls
    target = urlsplit(ws_url.rstrip("/"))
    parts = urlsplit(urls.replace("{hostname}", hostname or ""))
    moved = parts._replace(scheme=target.scheme, netloc=target.netloc)
    if target.path:
        moved = moved._replace(path=target.path, query=target.query)
    return moved.geturl()


def _ws_root(base_url: str) -> str:
    """The WebSocket root implied by a REST root: same host, ws:// or wss://."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


def check_ws_url(ws_url: str) -> str | None:
    """None if usable, else what is wrong."""
    parts = urlsplit(ws_url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        return f"ws_url {ws_url!r} must be ws:// or wss:// + host[:port][/path]"
    return None


async def load_markets(exchange: Any, policy: RetryPolicy, attempts: int = 5) -> None:
    """Load markets, retrying what is temporary (an empty answer included, PROTOCOLS §6.5)."""
    for attempt in range(1, attempts + 1):
        try:
            if await exchange.load_markets(reload=attempt > 1):
                return
            error: Exception = UnavailableError("the market list came back empty")
        except (ccxt.NetworkError, ccxt.OperationFailed) as failure:
            error = failure
        except ccxt.BaseError as failure:
            raise SourceError(f"{exchange.id}: cannot load markets: {failure}") from failure
        if attempt < attempts:
            delay = policy.backoff(attempt)
            log.info("%s: markets: %s; retry in %.1f s", exchange.id, error, delay)
            await asyncio.sleep(delay)
    raise UnavailableError(f"{exchange.id}: cannot load markets after {attempts} tries: {error}")


def resolve_symbol(exchange: Any, symbol: str, market: str) -> str:
    """The unified symbol as the venue lists it; `BTC/USDT` on a swap market means the linear
    perpetual `BTC/USDT:USDT`. Unknown → ConfigError naming the command that lists symbols."""
    markets = exchange.markets or {}
    if symbol in markets:
        return symbol
    if market == "swap" and ":" not in symbol and "/" in symbol:
        settled = f"{symbol}:{symbol.split('/')[1]}"
        if settled in markets:
            return settled
    base = symbol.split("/")[0]
    raise ConfigError(
        f"{exchange.id} has no {market} market {symbol!r}; "
        f"`barlake symbols {exchange.id} --search {base}` lists the valid ones"
    )


def check_timeframe(exchange: Any, timeframe: str) -> None:
    """A timeframe the venue streams, or a ConfigError listing the ones it has."""
    frames = exchange.timeframes or {}
    if frames and timeframe not in frames:
        raise ConfigError(
            f"{exchange.id} has no timeframe {timeframe!r}; it has {', '.join(frames)}"
        )
