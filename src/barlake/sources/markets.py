"""An exchange's markets through real ccxt: the listing behind `barlake symbols`, and the top-N
by 24 h quote volume behind `barlake universe`, turned into instruments.csv rows.

Ranking costs ONE ticker call whatever N is: ccxt `fetch_tickers()` without symbols asks the
venue for every market at once (Binance spot `GET /api/v3/ticker/24hr`, weight 80; USD-M
`GET /fapi/v1/ticker/24hr`, weight 40; Hyperliquid one `metaAndAssetCtxs`), where one
ticker per market would cost hundreds of requests. Add `load_markets` (exchangeInfo, weight
20) and a universe is two requests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ccxt

from barlake.errors import (
    BadResponseError,
    BarlakeError,
    ConfigError,
    RateLimitedError,
    UnavailableError,
)
from barlake.instruments import Instrument, MergeResult, write_instruments
from barlake.instruments.cells import MARKET, BadCell
from barlake.lake.layout import NAME_RE
from barlake.sources.exchanges import check_base_url, open_exchange

log = logging.getLogger(__name__)

MARKETS = ("spot", "swap", "future")


@dataclass(frozen=True)
class MarketInfo:
    """One listed market as ccxt unifies it; `active` is None when the venue does not say."""

    symbol: str  # unified: BTC/USDT, BTC/USDC:USDC
    id: str  # the venue's own: BTCUSDT (Hyperliquid perps: the asset index, "0")
    base: str
    quote: str
    type: str  # spot | swap | future (ccxt's market['type'])
    active: bool | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Ranked:
    """A market and its rolling 24 h volume in its quote currency."""

    market: MarketInfo
    quote_volume: float


@dataclass(frozen=True)
class Universe:
    """What `pick_universe` chose, the rows it made, and what writing them did (if asked)."""

    exchange: str
    market: str
    quote: str
    ranked: list[Ranked]
    rows: list[Instrument]
    written: MergeResult | None = None


def parse_market(value: str) -> str:
    """spot|swap|future, any case; a ConfigError that names the fix (perp → swap) otherwise."""
    try:
        return str(MARKET(value.strip()))
    except BadCell as bad:
        raise ConfigError(f"bad --market {value!r}: {bad}") from None


def list_markets(
    exchange_id: str,
    *,
    market: str = "spot",
    search: str | None = None,
    base_url: str | None = None,
    timeout_s: float = 10.0,
) -> list[MarketInfo]:
    """The exchange's `market` markets sorted by symbol; `search` keeps those whose unified
    symbol or venue id contains it (any case). One `load_markets`, nothing else."""
    kind = parse_market(market)
    with _session(exchange_id, kind, base_url, timeout_s) as exchange:
        markets = _markets(exchange, kind)
    needle = (search or "").strip().upper()
    return [m for m in markets if needle in m.symbol.upper() or needle in m.id.upper()]


def top_markets(
    exchange_id: str,
    *,
    quote: str | None,
    top: int,
    market: str = "spot",
    base_url: str | None = None,
    timeout_s: float = 10.0,
) -> list[Ranked]:
    """The `top` active `market` markets quoted in `quote`, by 24 h quote volume, largest first.

    Inactive markets and markets without volume are skipped (a delisted pair is still listed
    with zero volume). Fewer than `top` come back when fewer qualify; none is a ConfigError
    that lists the quote currencies the venue does have.
    """
    kind, wanted = parse_market(market), _quote(quote)
    if top < 1:
        raise ConfigError(f"bad --top {top}: pick at least 1 market, e.g. --top 20")
    with _session(exchange_id, kind, base_url, timeout_s) as exchange:
        markets = _markets(exchange, kind)
        tickers = _tickers(exchange, kind)
    candidates = [m for m in markets if m.quote.upper() == wanted and m.active is not False]
    ranked = [Ranked(m, _volume(tickers.get(m.symbol))) for m in candidates]
    ranked = sorted((r for r in ranked if r.quote_volume > 0), key=_rank_order)
    if not ranked:
        quotes = ", ".join(sorted({m.quote for m in markets})) or "none"
        raise ConfigError(
            f"no active {exchange.id} {kind} market quoted in {wanted} traded in the last 24 h "
            f"(quotes listed: {quotes}); pick one of those with --quote"
        )
    return ranked[:top]


def pick_universe(
    exchange_id: str,
    *,
    quote: str | None,
    top: int,
    market: str = "spot",
    base_url: str | None = None,
    out: Path | None = None,
    timeout_s: float = 10.0,
) -> Universe:
    """`top_markets` as instruments rows; with `out`, merged into that instruments.csv (rows
    already there are updated in place, everything else in the file is kept)."""
    kind = parse_market(market)
    ranked = top_markets(
        exchange_id, quote=quote, top=top, market=kind, base_url=base_url, timeout_s=timeout_s
    )
    exchange = exchange_id.strip().lower()
    rows = instrument_rows(ranked, exchange, kind, _root(base_url))
    try:
        written = write_instruments(Path(out), rows) if out is not None else None
    except OSError as exc:
        raise ConfigError(f"cannot write {out} ({exc.strerror}); pick a writable --out") from None
    return Universe(exchange, kind, _quote(quote), ranked, rows, written)


def instrument_rows(
    ranked: list[Ranked], exchange: str, market: str, base_url: str | None = None
) -> list[Instrument]:
    """One ccxt row per market: the venue id as instrument name, the unified symbol as
    data_symbol. A market whose row would be invalid or repeat a name is skipped and logged."""
    rows: list[Instrument] = []
    names: set[str] = set()
    for item in ranked:
        cells = {
            "instrument": instrument_name(item.market),
            "backend": "ccxt",
            "data_symbol": item.market.symbol,
            "exchange": exchange,
            "market": market,
            "base_url": base_url or "",
        }
        try:
            row = Instrument.from_row(cells)
        except ConfigError as exc:
            log.warning("skipped %s: %s", item.market.symbol, exc)
            continue
        if row.instrument.casefold() in names:
            log.warning("skipped %s: instrument name %s repeats", row.data_symbol, row.instrument)
            continue
        names.add(row.instrument.casefold())
        rows.append(row)
    return rows


def instrument_name(info: MarketInfo) -> str:
    """The venue's market id (BTCUSDT, BTC-USDT) when it makes a lake name; otherwise — a bare
    number like Hyperliquid's asset index, or `@107` — base + quote (BTCUSDC)."""
    if NAME_RE.match(info.id) and not info.id.isdigit() and set(info.id) != {"."}:
        return info.id
    return re.sub(r"[^A-Za-z0-9]", "", info.base + info.quote) or re.sub(
        r"[^A-Za-z0-9]", "_", info.symbol
    )


def _rank_order(item: Ranked) -> tuple[float, str]:
    return -item.quote_volume, item.market.symbol


def _quote(quote: str | None) -> str:
    wanted = (quote or "").strip().upper()
    if not wanted:
        raise ConfigError(
            "say which quote currency to rank in, e.g. --quote USDT (volumes in different "
            "quote currencies do not compare)"
        )
    return wanted


def _root(base_url: str | None) -> str | None:
    """scheme + host + port: all the source uses of a base URL, and what instruments.csv takes."""
    if not base_url:
        return None
    parts = urlsplit(base_url.strip())
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _markets(exchange: ccxt.Exchange, kind: str) -> list[MarketInfo]:
    loaded = exchange.load_markets()
    found = [
        MarketInfo(
            symbol=str(m["symbol"]),
            id=str(m["id"]),
            base=str(m.get("base") or ""),
            quote=str(m.get("quote") or ""),
            type=str(m.get("type") or ""),
            active=m.get("active"),
        )
        for m in loaded.values()
        if m.get("type") == kind
    ]
    return sorted(found, key=lambda m: m.symbol)


def _tickers(exchange: ccxt.Exchange, kind: str) -> dict[str, Any]:
    """Every ticker of the market type in one request (no symbols: the venue sends all)."""
    support = exchange.has.get("fetchTickers")
    if not support:
        raise ConfigError(
            f"{exchange.id} cannot send every 24 h ticker in one call (ccxt fetchTickers); "
            f"pick markets by hand from `barlake symbols {exchange.id}`"
        )
    if support == "emulated":
        log.warning("%s has no all-markets ticker: ccxt asks market by market", exchange.id)
    tickers: dict[str, Any] = exchange.fetch_tickers(params={"type": kind})
    return tickers


def _volume(ticker: dict[str, Any] | None) -> float:
    """24 h quote volume; base volume × average (or last) price when the venue omits it."""
    if not ticker:
        return 0.0
    quote = ticker.get("quoteVolume")
    if quote is None and ticker.get("baseVolume") is not None:
        price = ticker.get("vwap") or ticker.get("last") or 0.0
        quote = float(ticker["baseVolume"]) * float(price)
    return float(quote or 0.0)


@contextmanager
def _session(
    exchange_id: str, kind: str, base_url: str | None, timeout_s: float
) -> Iterator[ccxt.Exchange]:
    """An exchange narrowed to `kind`, its connection closed after, ccxt errors as ours."""
    if base_url:
        problem = check_base_url(base_url.strip())
        if problem is None and urlsplit(base_url).username:
            problem = f"base_url {base_url!r} holds credentials; keep secrets in the env or .env"
        if problem:
            raise ConfigError(f"bad --base-url: {problem}")
    exchange = open_exchange(
        exchange_id.strip().lower(), market=kind, base_url=_root(base_url), timeout_s=timeout_s
    )
    try:
        yield exchange
    except ccxt.BaseError as exc:
        raise venue_error(exc, exchange.id, _root(base_url), timeout_s) from exc
    finally:
        exchange.close()


def venue_error(
    exc: ccxt.BaseError, name: str, base_url: str | None, timeout_s: float
) -> BarlakeError:
    """Our error class for a ccxt one, as one line naming the venue, what happened and the fix."""
    where = base_url or f"{name}'s API"
    fix = "check --base-url (is a server listening there?)" if base_url else "check the network"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimitedError(f"{name}: rate limited by {where}; wait a minute and run again")
    if isinstance(exc, ccxt.RequestTimeout):
        return UnavailableError(f"{name}: {where} did not answer within {timeout_s:g} s; {fix}")
    if _refused(exc):
        return UnavailableError(f"{name}: cannot reach {where} (connection refused); {fix}")
    if isinstance(exc, ccxt.OperationFailed):  # network, 5xx, busy, garbled: temporary
        return UnavailableError(f"{name}: {where} failed ({_short(exc)}); run again later")
    if isinstance(exc, ccxt.AuthenticationError):
        keys = f"BARLAKE_{name.upper()}_API_KEY and _SECRET"
        return ConfigError(f"{name}: {where} wants API keys; set {keys} in the env or .env")
    if isinstance(exc, ccxt.NotSupported):
        return ConfigError(f"{name}: {_short(exc)}; try another --market")
    return BadResponseError(f"{name}: {where} answered an error ({_short(exc)})")


def _refused(exc: BaseException) -> bool:
    """Whether a ConnectionRefusedError sits anywhere in the chain of causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."
