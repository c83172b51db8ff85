"""What the sync must know about each venue's candle endpoint, declared in one place.

Page sizes, request weights and published per-IP budgets come from PROTOCOLS.md §1.3,
§1.8, §5.1, §5.3 (Binance spot 6000/min with klines weight 2; USD-M 2400/min with
1000-bar klines weight 5; Hyperliquid 1200/min, 20 per info call + 1 per 60 candles,
only the newest 5000 candles kept). Any other ccxt exchange gets its ccxt page limit and
ccxt's own `rateLimit` spacing turned into a per-second budget shared by all workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

import ccxt


@dataclass(frozen=True)
class VenueRules:
    page_limit: int  # bars asked per request
    page_weight: float  # weight of one full candle request
    markets_weight: float  # weight of load_markets
    budget: float  # weight per window (per IP)
    window_s: float
    retention_bars: int | None = None  # only the newest N bars are served
    short_page_is_end: bool = True  # a page shorter than asked means "no more up to endTime"
    rate_limits_in_exchange_info: bool = False  # Binance publishes its budget


BINANCE_SPOT = VenueRules(1000, 2, 20, 6000, 60, rate_limits_in_exchange_info=True)
BINANCE_USDM = VenueRules(1000, 5, 1, 2400, 60, rate_limits_in_exchange_info=True)
HYPERLIQUID = VenueRules(5000, 20 + math.ceil(5000 / 60), 40, 1200, 60, retention_bars=5000)


def rules_for(exchange: ccxt.Exchange, market: str) -> VenueRules:
    if exchange.id in ("binance", "binanceus"):
        return BINANCE_SPOT if market == "spot" else BINANCE_USDM
    if exchange.id == "hyperliquid":
        return HYPERLIQUID
    return _generic(exchange, market)


def _generic(exchange: ccxt.Exchange, market: str) -> VenueRules:
    features = exchange.features or {}
    block = features.get(market) or {}
    if market != "spot" and isinstance(block.get("linear"), dict):
        block = block["linear"]
    limit = (block.get("fetchOHLCV") or {}).get("limit") or 500
    per_second = max(1.0, 1000.0 / max(float(exchange.rateLimit or 100), 1.0))
    return VenueRules(int(limit), 1, 1, per_second, 1.0, short_page_is_end=False)


def budget_key(exchange: ccxt.Exchange, market: str, base_url: str | None) -> str:
    """Budgets are per IP per host: binance spot and USD-M are separate hosts (and limits)."""
    host = urlsplit(base_url).netloc if base_url else "default"
    family = "spot" if market == "spot" else "derivatives"
    return f"{exchange.id}:{family}:{host}"


def window_from_rate_limits(info: object) -> tuple[float, float] | None:
    """(limit, seconds) of REQUEST_WEIGHT in a Binance exchangeInfo answer, if present."""
    if not isinstance(info, dict):
        return None
    seconds = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
    for item in info.get("rateLimits") or []:
        if item.get("rateLimitType") == "REQUEST_WEIGHT" and item.get("interval") in seconds:
            window = seconds[item["interval"]] * int(item.get("intervalNum") or 1)
            return float(item["limit"]), float(window)
    return None
