"""Binance listings and 24h tickers: `exchangeInfo` and `ticker/24hr`, spot and USD-M.

The per-symbol fields are the ones real ccxt 4.5 reads in `load_markets` (PROTOCOLS §1.5);
`rateLimits` reports the emulator's configured weight budget so a client can size itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from barlake.emulator.binance_wire import BOOKS, VENUE, error, params
from barlake.emulator.decimals import text
from barlake.emulator.limits import WeightLimiter, interval_of
from barlake.emulator.market import DAY_MS, MINUTE_MS, Market, MarketBook

UNLIMITED = 2**31 - 1
ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]
STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"]


def _units(value: int, decimals: int) -> str:
    return text(value, decimals, max(8, decimals))


def _signed(value: int, decimals: int) -> str:
    return ("-" if value < 0 else "") + _units(abs(value), decimals)


def _filters(market: Market) -> list[dict[str, Any]]:
    pd, qd = market.spec.price_decimals, market.spec.qty_decimals
    return [
        {"filterType": "PRICE_FILTER", "minPrice": _units(1, pd),
         "maxPrice": _units(10**7 * 10**pd, pd), "tickSize": _units(1, pd)},
        {"filterType": "LOT_SIZE", "minQty": _units(1, qd),
         "maxQty": _units(9 * 10**6 * 10**qd, qd), "stepSize": _units(1, qd)},
        {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
         "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
    ]  # fmt: skip


def _spot_symbol(book: MarketBook, market: Market) -> dict[str, Any]:
    spec = market.spec
    return {
        "symbol": spec.symbol, "status": book.status(spec.symbol),
        "baseAsset": spec.base, "baseAssetPrecision": 8,
        "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ORDER_TYPES, "icebergAllowed": True, "ocoAllowed": True,
        "otoAllowed": True, "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
        "cancelReplaceAllowed": True, "amendAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False, "filters": _filters(market),
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": STP_MODES,
    }  # fmt: skip


def _usdm_symbol(book: MarketBook, market: Market) -> dict[str, Any]:
    spec = market.spec
    return {
        "symbol": spec.symbol, "pair": spec.symbol, "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000, "onboardDate": spec.listing_ms,
        "status": book.status(spec.symbol), "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": spec.base, "quoteAsset": spec.quote,
        "marginAsset": spec.quote, "pricePrecision": spec.price_decimals,
        "quantityPrecision": spec.qty_decimals, "baseAssetPrecision": 8,
        "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
        "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500",
        "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
        "filters": _filters(market)[:2], "orderTypes": ["LIMIT", "MARKET", "STOP"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }  # fmt: skip


def _rate_limits(limiter: WeightLimiter | None) -> list[dict[str, Any]]:
    budget = limiter.budget if limiter else None
    interval, number, _ = interval_of(limiter.window_ms if limiter else 60_000)
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": interval, "intervalNum": number,
         "limit": UNLIMITED if budget is None else budget},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
    ]  # fmt: skip


def _chosen(book: MarketBook, query: Mapping[str, str]) -> list[str]:
    """`symbol=X` or `symbols=["X","Y"]` (JSON), each must exist (-1121); default all."""
    if "symbol" in query:
        names = [query["symbol"]]
    elif "symbols" in query:
        try:
            names = json.loads(query["symbols"])
        except ValueError:
            raise error(-1100, "Illegal characters found in parameter 'symbols'.") from None
    else:
        return book.symbols()
    if not isinstance(names, list) or any(name not in book for name in names):
        raise error(-1121, "Invalid symbol.")
    return names


async def spot_exchange_info(request: web.Request) -> web.Response:
    book = request.app[BOOKS].spot
    query = params(
        request,
        frozenset({"symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"}),
    )
    symbols = [_spot_symbol(book, book.get(name)) for name in _chosen(book, query)]
    if "symbolStatus" in query:
        symbols = [s for s in symbols if s["status"] == query["symbolStatus"]]
    limiter = request.app[VENUE].limiter_for("/api/")
    return web.json_response(
        {"timezone": "UTC", "serverTime": book.clock(),
         "rateLimits": _rate_limits(limiter),
         "exchangeFilters": [], "symbols": symbols}
    )  # fmt: skip


async def usdm_exchange_info(request: web.Request) -> web.Response:
    book = request.app[BOOKS].usdm
    limiter = request.app[VENUE].limiter_for("/fapi/")
    assets = sorted({m.spec.quote for m in book})
    return web.json_response(
        {"timezone": "UTC", "serverTime": book.clock(), "futuresType": "U_MARGINED",
         "rateLimits": _rate_limits(limiter)[:2],
         "exchangeFilters": [],
         "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"} for a in assets],
         "symbols": [_usdm_symbol(book, m) for m in book]}
    )  # fmt: skip


def ticker_weight(query: Mapping[str, str]) -> int:
    """2 for one symbol or up to 20 listed, 40 up to 100, 80 beyond or for all."""
    if "symbol" in query:
        return 2
    try:
        count = len(json.loads(query["symbols"])) if "symbols" in query else 10**6
    except ValueError:
        return 2
    return 2 if count <= 20 else 40 if count <= 100 else 80


def ticker(book: MarketBook, market: Market, now_ms: int, full: bool) -> dict[str, Any]:
    """Rolling 24 h statistics over the truth, the forming minute included."""
    spec = market.spec
    pd, qd = spec.price_decimals, spec.qty_decimals
    bars = market.live(now_ms - DAY_MS, now_ms + 1, now_ms)
    opened = int(bars.open[0]) if len(bars) else 0
    last = int(bars.close[-1]) if len(bars) else 0
    volume, quote = int(bars.volume.sum()), int(bars.quote_volume.sum())
    count = int(bars.trades.sum())
    last_id = max(now_ms - spec.listing_ms, 0) // MINUTE_MS * 50 if count else -1
    stats: dict[str, Any] = {
        "symbol": spec.symbol, "openPrice": _units(opened, pd),
        "highPrice": _units(int(bars.high.max()) if len(bars) else 0, pd),
        "lowPrice": _units(int(bars.low.min()) if len(bars) else 0, pd),
        "lastPrice": _units(last, pd), "volume": _units(volume, qd),
        "quoteVolume": _units(quote, pd + qd), "openTime": now_ms - DAY_MS, "closeTime": now_ms,
        "firstId": last_id - count + 1 if count else -1, "lastId": last_id, "count": count,
    }  # fmt: skip
    if not full:
        return stats
    change = last - opened
    return {
        "symbol": spec.symbol, "priceChange": _signed(change, pd),
        "priceChangePercent": f"{100 * change / opened:.3f}" if opened else "0.000",
        "weightedAvgPrice": f"{quote / volume / 10**pd:.8f}" if volume else "0.00000000",
        "prevClosePrice": _units(opened, pd), "lastPrice": stats["lastPrice"],
        "lastQty": _units(1 if count else 0, qd), "bidPrice": _units(max(last - 1, 0), pd),
        "bidQty": _units(10**qd if count else 0, qd), "askPrice": _units(last + 1 if count else 0, pd),
        "askQty": _units(10**qd if count else 0, qd),
        **{k: stats[k] for k in ("openPrice", "highPrice", "lowPrice", "volume", "quoteVolume",
                                 "openTime", "closeTime", "firstId", "lastId", "count")},
    }  # fmt: skip


async def ticker_24hr(request: web.Request) -> web.Response:
    book = request.app[BOOKS].spot
    query = params(request, frozenset({"symbol", "symbols", "type", "symbolStatus"}))
    kind = query.get("type", "FULL")
    if kind not in ("FULL", "MINI"):
        raise error(-1130, "Data sent for parameter 'type' is not valid.")
    names = _chosen(book, query)
    if "symbolStatus" in query:
        names = [n for n in names if book.status(n) == query["symbolStatus"]]
    now = book.clock()
    rows = [ticker(book, book.get(name), now, kind == "FULL") for name in names]
    if "symbol" in query and not rows:
        raise error(-1220, "The symbol's status does not match the requested symbolStatus.")
    return web.json_response(rows[0] if "symbol" in query else rows)


USDM_TICKER_FIELDS = (
    "symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "lastPrice", "lastQty",
    "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume", "openTime", "closeTime",
    "firstId", "lastId", "count",
)  # fmt: skip


async def usdm_ticker_24hr(request: web.Request) -> web.Response:
    """`/fapi/v1/ticker/24hr`: the spot FULL object without prevClosePrice and the book fields
    (USD-M has no `type`/`symbols`/`symbolStatus`); weight 1 for one symbol, 40 for all."""
    book = request.app[BOOKS].usdm
    query = params(request, frozenset({"symbol"}))
    now = book.clock()
    rows = [
        {field: stats[field] for field in USDM_TICKER_FIELDS}
        for stats in (ticker(book, book.get(name), now, True) for name in _chosen(book, query))
    ]
    return web.json_response(rows[0] if "symbol" in query else rows)
