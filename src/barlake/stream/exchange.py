"""ccxt.pro instances for a stream: REST rebased onto `base_url` like `sources.exchanges`, the
WebSocket endpoints moved onto `ws_url`, keys from the environment, markets loaded; `retried`
is the back-off loop around the stream's REST calls (markets, backfill).

Binance drops the kline's closed flag (`k.x`, PROTOCOLS §3.3, §6.7) on the way into ccxt.pro's
candle cache, so its class is subclassed here and the kline handler passes every raw kline to a
`kline_tap` before ccxt consumes it: that handler is the protocol seam, nothing else is touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import ccxt
import ccxt.pro as ccxtpro

from barlake.errors import BadResponseError, ConfigError, UnavailableError
from barlake.sources.exchanges import narrow_and_sign, rebase
from barlake.sources.retry import RetryPolicy

log = logging.getLogger(__name__)
T = TypeVar("T")
TEMPORARY = (ccxt.NetworkError, ccxt.OperationFailed, UnavailableError)


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
    narrow_and_sign(exchange, exchange_id, market=market, symbol=symbol)
    api = exchange.urls["api"]
    ws = api.get("ws") if isinstance(api, dict) else None
    if base_url:
        rest = {key: value for key, value in api.items() if key != "ws"}
        api = {**rebase(rest, base_url, exchange.hostname), "ws": ws}
    if ws is not None and (ws_url or base_url):
        # a ws_url path replaces ccxt's (which appends stream ids such as `/0` itself)
        root = ws_url or _ws_root(base_url or "")
        api["ws"] = rebase(ws, root, exchange.hostname, path=True)
    exchange.urls["api"] = api
    return exchange


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


async def retried(
    request: Callable[[], Awaitable[T]], what: str, policy: RetryPolicy, attempts: int
) -> T:
    """Await `request()` until it returns. A temporary failure (a drop, timeout, 5xx,
    429, or an UnavailableError it raised) is retried after the policy's back-off, `attempts`
    tries in all, then raised as UnavailableError; a refusal as BadResponseError."""
    for attempt in range(1, attempts + 1):
        try:
            return await request()
        except TEMPORARY as error:
            if attempt == attempts:
                raise UnavailableError(
                    f"{what} failed {attempts} times: {type(error).__name__}: {error}"
                ) from error
            delay = policy.backoff(attempt)
            log.info("%s: %s; retry in %.2f s", what, error, delay)
            await asyncio.sleep(delay)
        except ccxt.BaseError as error:
            raise BadResponseError(f"{what} refused: {error}") from error
    raise AssertionError("unreachable")


async def load_markets(exchange: Any, policy: RetryPolicy, attempts: int = 5) -> None:
    """Load markets, retrying what is temporary (an empty answer included, PROTOCOLS §6.5)."""

    async def load() -> None:
        if not await exchange.load_markets(reload=True):  # never ccxt's cached empty answer
            raise UnavailableError("the market list came back empty")

    await retried(load, f"{exchange.id}: loading markets", policy, attempts)


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
