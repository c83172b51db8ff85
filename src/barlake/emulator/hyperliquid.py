"""Hyperliquid's `POST /info`: candles with the 5000-candle retention, and the listings ccxt loads.

One real candle object, for reference (`candleSnapshot`, interval 15m):

    {"T":1681924499999,"c":"29258.0","h":"29309.0","i":"15m","l":"29250.0","n":189,
     "o":"29295.0","s":"BTC","t":1681923600000,"v":"0.98639"}

The WebSocket (`/ws`, see `ws_hyperliquid`) shares this port.

Only the newest 5000 candles per coin and interval exist (the forming one included); the
request window filters those, so anything older comes back as `[]`. Unknown coins answer
`[]` too; a body that is not a known request answers 422 like the real server. Weight: 20
per request (2 for `allMids`), plus 1 per 60 candles returned.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from barlake.emulator.candles import close_times, window
from barlake.emulator.decimals import trimmed
from barlake.emulator.market import DAY_MS, Market, MarketBook
from barlake.emulator.pipeline import ApiError, Venue, guard, request_body
from barlake.emulator.trades import Tape
from barlake.emulator.ws_server import bypass

INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
RETENTION = 5000
BOOK = web.AppKey("book", MarketBook)
TAPE = web.AppKey("tape", Tape)
VENUE = web.AppKey("venue", Venue)
LIGHT = frozenset({"allMids", "l2Book", "clearinghouseState", "orderStatus", "exchangeStatus"})


def bad_body(detail: str) -> ApiError:
    return ApiError(422, f"Failed to deserialize the JSON body into the target type: {detail}")


def candles(book: MarketBook, req: Any, tape: Tape | None = None) -> list[dict[str, Any]]:
    """`req` = {"coin", "interval", "startTime", "endTime"?}; inclusive bounds on open time.
    With the `tape`, the forming candle is what it has traded so far (as on `/ws`)."""
    if not isinstance(req, dict) or not isinstance(req.get("startTime"), int):
        raise bad_body("req: missing field `startTime`")
    coin, interval = req.get("coin"), req.get("interval")
    if interval not in INTERVALS:
        raise bad_body(f"req.interval: unknown variant `{interval}`")
    if coin not in book:
        return []
    now = book.clock()
    end = req.get("endTime") if isinstance(req.get("endTime"), int) else now
    forming = tape.forming(coin) if tape is not None else None
    kept = window(book.get(coin), interval, now, limit=RETENTION, forming=forming)
    bars = kept.take((kept.open_ms >= req["startTime"]) & (kept.open_ms <= end))
    pd, qd = bars.price_decimals, bars.qty_decimals
    closes = close_times(bars.open_ms, interval)
    return [
        {"T": int(closes[i]), "c": trimmed(bars.close[i], pd), "h": trimmed(bars.high[i], pd),
         "i": interval, "l": trimmed(bars.low[i], pd), "n": int(bars.trades[i]),
         "o": trimmed(bars.open[i], pd), "s": coin, "t": int(bars.open_ms[i]),
         "v": trimmed(bars.volume[i], qd)}
        for i in range(len(bars))
    ]  # fmt: skip


def asset_context(market: Market, now_ms: int) -> dict[str, Any]:
    """Mark/mid/oracle at the last price, 24 h volumes from the truth; funding is constant."""
    bars = market.live(now_ms - DAY_MS, now_ms + 1, now_ms)
    pd, qd = market.spec.price_decimals, market.spec.qty_decimals
    last = trimmed(bars.close[-1], pd) if len(bars) else "0.0"
    return {
        "funding": "0.0000125", "openInterest": "1000.0",
        "prevDayPx": trimmed(bars.open[0], pd) if len(bars) else "0.0",
        "dayNtlVlm": trimmed(int(bars.quote_volume.sum()), pd + qd), "premium": "0.0",
        "oraclePx": last, "markPx": last, "midPx": last, "impactPxs": [last, last],
        "dayBaseVlm": trimmed(int(bars.volume.sum()), qd),
    }  # fmt: skip


def meta(book: MarketBook) -> dict[str, Any]:
    return {
        "universe": [
            {"szDecimals": m.spec.qty_decimals, "name": m.symbol, "maxLeverage": 50,
             "marginTableId": 50}
            for m in book
        ]
    }  # fmt: skip


def answer_for(book: MarketBook, body: dict[str, Any], tape: Tape | None = None) -> Any:
    kind = body.get("type")
    now = book.clock()
    if kind == "candleSnapshot":
        return candles(book, body.get("req"), tape)
    if kind == "meta":
        return meta(book)
    if kind == "metaAndAssetCtxs":
        return [meta(book), [asset_context(m, now) for m in book]]
    if kind == "allMids":
        return {m.symbol: asset_context(m, now)["midPx"] for m in book}
    if kind == "spotMeta":
        return {"universe": [], "tokens": []}
    if kind == "spotMetaAndAssetCtxs":
        return [{"universe": [], "tokens": []}, []]
    if kind == "perpDexs":
        return [None]
    raise bad_body(f"unknown variant `{kind}`")


async def info(request: web.Request) -> web.Response:
    body = request_body(request)
    if not isinstance(body, dict):
        raise bad_body("expected a JSON object")
    result = answer_for(request.app[BOOK], body, request.app.get(TAPE))
    if body.get("type") == "candleSnapshot" and result:
        venue = request.app[VENUE]
        if venue.limiter is not None:
            venue.limiter.charge(math.ceil(len(result) / 60), venue.clock())
    return web.json_response(result)


def weigh(request: web.Request, body: Any) -> int:
    kind = body.get("type") if isinstance(body, dict) else None
    return 2 if kind in LIGHT else 20


def build(book: MarketBook, venue: Venue, tape: Tape | None = None) -> web.Application:
    """POST /info; with the `tape`, forming candles from it (the server mounts `/ws` here)."""
    venue.weigh = weigh
    app = web.Application(middlewares=[bypass(guard(venue))])
    app[BOOK] = book
    app[VENUE] = venue
    app.router.add_post("/info", info)
    if tape is not None:
        app[TAPE] = tape
    return app
