"""Any ccxt exchange's REST candles as pages of closed 1m bars (PROTOCOLS §1.2, §5.1, §6).

Our own pagination rather than ccxt's `paginate` (which silently stops after 10 calls):
ask `[since, end)` with `until = end - 1`, keep rows inside the window whose minute has
closed, and move `since` past the last bar. An empty or short answer with an explicit
end closes the window on venues that honour it (Binance, Hyperliquid); elsewhere the
loop goes on until a page comes back empty. A page that does not advance is an error.

ccxt swallows a truncated JSON body and returns `[]` (§6.5); a 200 with a body that is
not JSON is therefore checked here and retried as UnavailableError, never read as "no bars".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import ccxt

from barlake.dates import now_ms
from barlake.errors import BadResponseError, SourceError, UnavailableError
from barlake.instruments import Instrument
from barlake.sources.base import Page, bars_table, inside
from barlake.sources.budget import Budget
from barlake.sources.http import status_error
from barlake.sources.retry import Attempts
from barlake.sources.venues import VenueRules, window_from_rate_limits
from barlake.timeframes import MINUTE_MS, floor_ts


class CcxtFeed:
    """One instrument through one ccxt instance (owned by the calling worker thread)."""

    def __init__(
        self,
        exchange: ccxt.Exchange,
        instrument: Instrument,
        rules: VenueRules,
        budget: Budget,
        attempts: Attempts,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.clock = clock  # the venue's "now" decides which candle is still forming
        self.exchange = exchange
        self.instrument = instrument
        self.rules = rules
        self.budget = budget
        self.attempts = attempts
        self.requests = 0
        self.params: dict[str, Any] = {}
        if instrument.price != "last":
            self.params["price"] = instrument.price

    # -- markets ----------------------------------------------------------------------
    def ensure_markets(self) -> None:
        """Load markets once (retried; an empty answer is reloaded) and check the symbol."""
        if self.exchange.markets:
            self._check_symbol()
            return
        self.attempts.call(self._load_markets, self.budget)
        self._check_symbol()

    def _load_markets(self) -> None:
        self.budget.acquire(self.rules.markets_weight)
        self.requests += 1
        markets = self._guarded(lambda: self.exchange.load_markets(reload=True))
        if not markets:
            raise UnavailableError(f"{self._where()}: the market list came back empty")
        if self.rules.rate_limits_in_exchange_info:
            published = window_from_rate_limits(self.exchange.last_json_response)
            if published:
                self.budget.configure(*published)

    def _check_symbol(self) -> None:
        symbol = self.instrument.data_symbol
        if symbol not in self.exchange.markets:
            base = symbol.split("/")[0]
            raise BadResponseError(
                f"{self.instrument.instrument}: {self.exchange.id} has no {self.instrument.market}"
                f" market {symbol!r}; `barlake symbols {self.exchange.id} --search {base}`"
                " lists the valid ones"
            )

    # -- candles ----------------------------------------------------------------------
    def fetch(self, start: int, end: int) -> Iterator[Page]:
        self.ensure_markets()
        since = start
        while since < end:
            raw = self.attempts.call(partial(self._page, since, end), self.budget)
            closed = floor_ts(self.clock(), MINUTE_MS)  # bars opening before it have closed
            table = inside(bars_table(raw), since, min(end, closed))
            if raw and not table.num_rows and max(row[0] for row in raw) < since:
                # the venue ignored `since` and sent older bars again: stop, never spin
                raise BadResponseError(f"{self._where()}: a page at {since} made no progress")
            full = len(raw) >= self.rules.page_limit
            if table.num_rows and (full or not self.rules.short_page_is_end):
                stop = int(table.column(0)[-1].as_py()) + MINUTE_MS
            else:
                stop = end
            yield Page(table, (since, stop), "rest")
            since = stop

    def _page(self, since: int, end: int) -> list[list[float]]:
        self.budget.acquire(self.rules.page_weight)
        self.requests += 1
        params = {**self.params, "until": end - 1}
        rows = self._guarded(
            lambda: self.exchange.fetch_ohlcv(
                self.instrument.data_symbol, "1m", since=since, limit=self.rules.page_limit,
                params=params,
            )
        )  # fmt: skip
        if (
            not rows
            and self.exchange.last_json_response is None
            and self.exchange.last_http_response
        ):
            raise UnavailableError(f"{self._where()}: the answer was not valid JSON (cut short?)")
        return rows

    def listing(self) -> int | None:
        """The venue's first bar (Binance answers `startTime=0` with it), or None."""
        self.ensure_markets()

        def probe() -> list[list[float]]:
            self.budget.acquire(self.rules.page_weight)
            self.requests += 1
            return self._guarded(
                lambda: self.exchange.fetch_ohlcv(
                    self.instrument.data_symbol, "1m", since=0, limit=1, params=self.params
                )
            )

        rows = self.attempts.call(probe, self.budget)
        return int(rows[0][0]) if rows else None

    def earliest(self, now_ms: int) -> int | None:
        return retention_start(self.rules, now_ms)

    # -- errors -----------------------------------------------------------------------
    def _guarded(self, call: Any) -> Any:
        self.exchange.last_http_status = None
        self.exchange.last_json_response = None
        self.exchange.last_http_response = None
        try:
            return call()
        except ccxt.BaseError as error:
            raise classify(error, self.exchange, self._where()) from error
        finally:
            self._observe_weight()

    def _observe_weight(self) -> None:
        headers = self.exchange.last_response_headers or {}
        for name, value in headers.items():
            if name.upper().startswith("X-MBX-USED-WEIGHT-") and str(value).isdigit():
                self.budget.observe(float(value))
                return

    def _where(self) -> str:
        return f"{self.instrument.instrument} ({self.exchange.id} {self.instrument.data_symbol})"


def retention_start(rules: VenueRules, now_ms: int) -> int | None:
    """The oldest minute a venue that keeps only recent candles still serves (5 spare minutes:
    the window slides while the sync runs)."""
    if rules.retention_bars is None:
        return None
    return floor_ts(now_ms, MINUTE_MS) - (rules.retention_bars - 5) * MINUTE_MS


def classify(error: ccxt.BaseError, exchange: ccxt.Exchange, where: str) -> SourceError:
    """ccxt's exception + the HTTP status → retried (rate limit, temporary) or reported."""
    status = getattr(exchange, "last_http_status", None)
    text = str(error).splitlines()[0][:200]
    retry_after = (exchange.last_response_headers or {}).get("Retry-After")
    if isinstance(error, ccxt.BadSymbol):
        return BadResponseError(f"{where}: unknown symbol: {text}")
    if status is not None and status != 200:
        return status_error(where, status, retry_after, text)
    if isinstance(error, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return status_error(where, 429, retry_after, text)
    if status is None and isinstance(error, ccxt.NetworkError):
        return UnavailableError(f"{where}: {type(error).__name__}: {text}")
    if isinstance(error, ccxt.BadRequest | ccxt.ExchangeError | ccxt.NotSupported) or status:
        return BadResponseError(f"{where}: {text}")
    return UnavailableError(f"{where}: {type(error).__name__}: {text}")
