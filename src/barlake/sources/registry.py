"""Which feed serves an instruments row, built per worker thread with shared budgets.

ccxt rows get a CcxtFeed on the row's exchange (its `base_url` if set); Binance spot and
USD-M rows asking for last-price bars add the bulk archive in front, unless the row points
REST at a mirror (`base_url`) without saying where that mirror's archive is (`archive_url`).
Dukascopy rows get a DukascopyFeed on their transport; every Dukascopy request of the run
passes one gate of `duk_workers` slots.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import ccxt

from barlake.dates import now_ms
from barlake.errors import ConfigError
from barlake.instruments import Instrument
from barlake.sources.base import Feed
from barlake.sources.binance import BinanceFeed
from barlake.sources.binance_archive import BinanceArchive
from barlake.sources.budget import Budgets
from barlake.sources.ccxt_rest import CcxtFeed, retention_start
from barlake.sources.dukascopy import Settings, open_feed, point_factor
from barlake.sources.exchanges import open_exchange
from barlake.sources.http import HttpClient
from barlake.sources.retry import Attempts, RetryPolicy
from barlake.sources.venues import budget_key, rules_for

ARCHIVE_MARKETS = {("binance", "spot"): "spot", ("binance", "swap"): "usdm"}


@dataclass
class FeedFactory:
    """Shared by the workers of one sync run; ccxt instances are kept per thread."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 10.0
    use_archive: bool = True
    budgets: Budgets = field(default_factory=Budgets)
    clock: Callable[[], int] = now_ms  # tests run the sync and the emulator on one clock
    duk_workers: int = 2  # Dukascopy requests in flight for the whole run (--duk-workers)
    duk_keep_flats: bool = False  # keep the flat zero-volume candles of closed periods
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _duk_gate: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._duk_gate = threading.BoundedSemaphore(max(1, self.duk_workers))

    def feed(self, item: Instrument) -> Feed:
        """A fresh feed (its own failure streak) for one instrument on this thread."""
        if item.backend == "dukascopy":
            settings = Settings(max(1, self.duk_workers), self.duk_keep_flats)
            attempts = Attempts(self.policy, item.instrument)
            return open_feed(item, attempts, self.timeout_s, self.clock, self._duk_gate, settings)
        if item.backend != "ccxt" or not item.exchange:
            raise ConfigError(
                f"{item.instrument}: the {item.backend} source is not available in this version"
            )
        exchange = self._exchange(item)
        rules = rules_for(exchange, item.market)
        budget = self.budgets.get(
            budget_key(exchange, item.market, item.base_url), rules.budget, rules.window_s
        )
        attempts = Attempts(self.policy, item.instrument)
        rest = CcxtFeed(exchange, item, rules, budget, attempts, self.clock)
        archive_market = ARCHIVE_MARKETS.get((exchange.id, item.market))
        wants_archive = item.price == "last" and (item.archive_url or not item.base_url)
        if not (self.use_archive and archive_market and wants_archive):
            return rest
        rest.ensure_markets()
        symbol_id = exchange.markets[item.data_symbol]["id"]
        archive = BinanceArchive(
            item.archive_url, archive_market, symbol_id, HttpClient(self.timeout_s * 3), attempts
        )
        return BinanceFeed(rest, archive)

    def earliest(self, item: Instrument, now_ms: int) -> int | None:
        """The venue's retention start for this row, from its rules alone (no request)."""
        if item.backend == "dukascopy":
            point_factor(item)  # the plan shows a row the sync would refuse
            return None
        if item.backend != "ccxt" or not item.exchange:
            return None
        return retention_start(rules_for(self._exchange(item), item.market), now_ms)

    def _exchange(self, item: Instrument) -> ccxt.Exchange:
        cache: dict[tuple[str, ...], ccxt.Exchange] = self._local.__dict__.setdefault(
            "exchanges", {}
        )
        settle = item.data_symbol.partition(":")[2]  # linear and inverse load different markets
        key = (item.exchange or "", item.market, item.base_url or "", settle)
        if key not in cache:
            cache[key] = open_exchange(
                item.exchange or "",
                market=item.market,
                symbol=item.data_symbol,
                base_url=item.base_url,
                timeout_s=self.timeout_s,
            )
        return cache[key]
