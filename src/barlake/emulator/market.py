"""Deterministic synthetic 1m markets: the ground truth every emulated endpoint serves.

A market is a geometric random walk seeded by (venue, symbol). Each UTC day is drawn on
its own (a Brownian bridge between day-open log prices that follow a slow mean-reverting
walk), so any range can be produced without replaying history and every path — REST,
archive zip, Hyperliquid, ground truth — reads the same integers.

Prices are integer ticks (10^-price_decimals), volumes integer lots (10^-qty_decimals),
quote volumes integer units of 10^-(price_decimals + qty_decimals). Floats are made only
at the edge (`ticks / 10**decimals`, which is exactly `float("<decimal text>")`), so a
lake built from the wire compares equal to `bars()` with `==`.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import pyarrow as pa

from barlake.dates import now_ms
from barlake.timeframes import DAY_MS, MINUTE_MS, floor_ts

PER_DAY = 1440
QUOTES = ("USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "EUR")


def utc_ms(text: str) -> int:
    """'2024-01-01' or '2024-01-01T09:30' (UTC) → epoch ms."""
    stamp = datetime.fromisoformat(text)
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return int(stamp.timestamp() * 1000)


wall_clock_ms = now_ms  # the emulator's default clock is the real one


@dataclass(frozen=True)
class SymbolSpec:
    """One synthetic instrument. `hole` is a [start, end) maintenance window with no bars."""

    symbol: str
    base: str
    quote: str
    price: float = 100.0
    listing_ms: int = utc_ms("2024-01-01")
    hole: tuple[int, int] | None = None
    delisted_ms: int | None = None
    price_decimals: int = 2
    qty_decimals: int = 4
    volume: float = 5.0
    sigma: float = 8e-4
    trades: float = 40.0

    @classmethod
    def guess(cls, symbol: str, **overrides: object) -> SymbolSpec:
        """A spec for any name: quote from a known suffix, a start price from the name's hash."""
        name = symbol.upper()
        quote = next((q for q in QUOTES if name.endswith(q) and len(name) > len(q)), "USDT")
        base = name[: -len(quote)] if name.endswith(quote) else name
        price = float(10 ** (1 + stable_seed("price", name) % 4))
        return replace(cls(symbol=name, base=base, quote=quote, price=price), **overrides)  # type: ignore[arg-type]


def stable_seed(*parts: str) -> int:
    """A seed that does not change between runs or Python versions (unlike hash())."""
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


class DayOpens:
    """Log price at each day's open: a slow mean-reverting walk from `price` on `first_day`
    (days since the epoch), one shock a day (`shocks[k % len] · sigma`) pulled back by `pull`
    of its distance from the start. Grown on demand under a lock, so any day may come first."""

    def __init__(
        self,
        price: float,
        first_day: int,
        shocks: Sequence[float] | np.ndarray,
        sigma: float,
        pull: float,
    ) -> None:
        self._logs = [math.log(price)]
        self._first_day = first_day
        self._shocks = shocks
        self._sigma = sigma
        self._pull = pull
        self._lock = threading.Lock()

    def log(self, day: int) -> float:
        index = max(day - self._first_day, 0)
        logs = self._logs
        with self._lock:
            while len(logs) <= index:
                last = logs[-1]
                shock = self._shocks[len(logs) % len(self._shocks)] * self._sigma
                logs.append(last + shock - self._pull * (last - logs[0]))
            return logs[index]


@dataclass(frozen=True)
class Bars:
    """Candles as integers; `open_ms` is the bar's open time in UTC epoch ms."""

    open_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray
    taker_volume: np.ndarray
    taker_quote_volume: np.ndarray
    price_decimals: int
    qty_decimals: int

    ARRAYS = (
        "open_ms",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "quote_volume",
        "trades",
        "taker_volume",
        "taker_quote_volume",
    )

    def __len__(self) -> int:
        return len(self.open_ms)

    def take(self, index: slice | np.ndarray) -> Bars:
        return replace(self, **{name: getattr(self, name)[index] for name in self.ARRAYS})

    @classmethod
    def concat(cls, parts: list[Bars], price_decimals: int, qty_decimals: int) -> Bars:
        arrays = {
            name: np.concatenate([getattr(p, name) for p in parts])
            if parts
            else np.empty(0, np.int64)
            for name in cls.ARRAYS
        }
        return cls(**arrays, price_decimals=price_decimals, qty_decimals=qty_decimals)

    def prices(self, name: str) -> np.ndarray:
        """A price column as float64, exactly float() of the decimal text on the wire."""
        return getattr(self, name) / 10.0**self.price_decimals

    def volumes(self) -> np.ndarray:
        return self.volume / 10.0**self.qty_decimals

    def to_table(self, extras: bool = False) -> pa.Table:
        """Lake shape: timestamp_ms, open, high, low, close, volume (+ trades, quote_volume)."""
        columns = {
            "timestamp_ms": pa.array(self.open_ms, pa.int64()),
            **{name: pa.array(self.prices(name)) for name in ("open", "high", "low", "close")},
            "volume": pa.array(self.volumes()),
        }
        if extras:
            columns["trades"] = pa.array(self.trades, pa.int64())
            scale = 10.0 ** (self.price_decimals + self.qty_decimals)
            columns["quote_volume"] = pa.array(self.quote_volume / scale)
        return pa.table(columns)


Forming = Callable[[int], Bars]  # now_ms → the still-open 1m bar as of then (one row or none)


class Market:
    """The 1m truth of one instrument on one venue."""

    def __init__(self, spec: SymbolSpec, venue: str = "binance") -> None:
        self.spec = spec
        self.venue = venue
        self._seed = stable_seed(venue, spec.symbol)
        self._first_day = spec.listing_ms // DAY_MS
        self._day_sigma = spec.sigma * math.sqrt(PER_DAY)
        shocks = np.random.default_rng([self._seed, 7]).standard_normal(4096)
        self._opens = DayOpens(spec.price, self._first_day, shocks, self._day_sigma, 0.01)
        self._day = lru_cache(maxsize=48)(self._make_day)

    @property
    def symbol(self) -> str:
        return self.spec.symbol

    @property
    def end_ms(self) -> int | None:
        return self.spec.delisted_ms

    def minutes(self, start_ms: int, end_ms: int) -> Bars:
        """Every 1m bar with open time in [start_ms, end_ms), ignoring the clock."""
        spec = self.spec
        start = max(start_ms, spec.listing_ms)
        end = min(end_ms, spec.delisted_ms if spec.delisted_ms is not None else end_ms)
        if start >= end:
            return self._empty()
        days = range(start // DAY_MS, (end - 1) // DAY_MS + 1)
        joined = Bars.concat([self._day(d) for d in days], spec.price_decimals, spec.qty_decimals)
        t = joined.open_ms
        keep = (t >= start) & (t < end)
        if spec.hole is not None:
            keep &= (t < spec.hole[0]) | (t >= spec.hole[1])
        return joined.take(keep)

    def forming(self, now_ms: int) -> Bars:
        """The still-open bar of the current minute, partly filled; empty if the venue is idle."""
        minute = floor_ts(now_ms, MINUTE_MS)
        full = self.minutes(minute, minute + MINUTE_MS)
        if not len(full):
            return full
        frac = (now_ms - minute + 1) / MINUTE_MS
        o = full.open
        c = o + np.rint((full.close - o) * frac).astype(np.int64)
        h, lo = np.maximum(o, c), np.minimum(o, c)
        v = (full.volume * frac).astype(np.int64)
        vwap = (o + h + lo + c) // 4
        tv = (full.taker_volume * frac).astype(np.int64)
        n = np.where(v > 0, np.maximum((full.trades * frac).astype(np.int64), 1), 0)
        return replace(
            full, close=c, high=h, low=lo, volume=v, quote_volume=v * vwap, trades=n,
            taker_volume=tv, taker_quote_volume=tv * vwap,
        )  # fmt: skip

    def live(self, start_ms: int, end_ms: int, now_ms: int, forming: Forming | None = None) -> Bars:
        """What a venue serves at `now_ms`: closed bars, then the forming one if in range —
        `forming(now_ms)` when given (a venue with a trade tape: `Tape.forming`), else the
        estimate above."""
        minute = floor_ts(now_ms, MINUTE_MS)
        closed = self.minutes(start_ms, min(end_ms, minute))
        if not start_ms <= minute < end_ms:
            return closed
        last = (forming or self.forming)(now_ms)
        return Bars.concat([closed, last], self.spec.price_decimals, self.spec.qty_decimals)

    def bars(self, start_ms: int, end_ms: int, now_ms: int | None = None) -> pa.Table:
        """Ground truth: CLOSED 1m bars with open in [start_ms, end_ms), in lake shape."""
        now = wall_clock_ms() if now_ms is None else now_ms
        return self.minutes(start_ms, min(end_ms, floor_ts(now, MINUTE_MS))).to_table()

    def _empty(self) -> Bars:
        return Bars.concat([], self.spec.price_decimals, self.spec.qty_decimals)

    def _make_day(self, day: int) -> Bars:
        spec = self.spec
        rng = np.random.default_rng([self._seed, day])
        lo, hi = self._opens.log(day), self._opens.log(day + 1)
        walk = np.cumsum(rng.standard_normal(PER_DAY) * spec.sigma)
        k = np.arange(1, PER_DAY + 1) / PER_DAY
        close_log = lo + walk - k * walk[-1] + k * (hi - lo)
        close_log[-1] = hi
        scale = 10.0**spec.price_decimals
        close = np.maximum(np.rint(np.exp(close_log) * scale), 1).astype(np.int64)
        day_open = max(int(np.rint(math.exp(lo) * scale)), 1)
        lots = spec.volume * 10.0**spec.qty_decimals
        volume = np.rint(lots * rng.lognormal(-0.32, 0.8, PER_DAY)).astype(np.int64)
        quiet = rng.random(PER_DAY) < 0.01
        quiet[-1] = False
        volume[quiet] = 0
        source = np.maximum.accumulate(np.where(quiet, -1, np.arange(PER_DAY)))
        close = np.where(source >= 0, close[np.maximum(source, 0)], day_open)
        open_ = np.concatenate(([day_open], close[:-1]))
        wick = np.abs(rng.standard_normal((2, PER_DAY))) * spec.sigma * 0.6
        top, bottom = np.maximum(open_, close), np.minimum(open_, close)
        high = np.where(quiet, top, np.maximum(top, np.rint(top * (1 + wick[0])).astype(np.int64)))
        low = np.minimum(bottom, np.rint(bottom * (1 - wick[1])).astype(np.int64))
        low = np.where(quiet, bottom, np.maximum(low, 1))
        trades = np.where(volume > 0, 1 + rng.poisson(spec.trades, PER_DAY), 0).astype(np.int64)
        taker = volume * rng.integers(30, 71, PER_DAY) // 100
        vwap = (open_ + high + low + close) // 4
        return Bars(
            open_ms=day * DAY_MS + np.arange(PER_DAY, dtype=np.int64) * MINUTE_MS,
            open=open_, high=high, low=low, close=close, volume=volume,
            quote_volume=volume * vwap, trades=trades, taker_volume=taker,
            taker_quote_volume=taker * vwap,
            price_decimals=spec.price_decimals, qty_decimals=spec.qty_decimals,
        )  # fmt: skip


class MarketBook:
    """The markets of one venue by name, sharing one clock."""

    def __init__(
        self, specs: Iterable[SymbolSpec], venue: str, clock: Callable[[], int] = wall_clock_ms
    ) -> None:
        self.venue = venue
        self.clock = clock
        self._markets = {spec.symbol: Market(spec, venue) for spec in specs}

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._markets

    def __iter__(self) -> Iterator[Market]:
        return iter(self._markets.values())

    def __len__(self) -> int:
        return len(self._markets)

    def get(self, symbol: str) -> Market:
        return self._markets[symbol]

    def symbols(self) -> list[str]:
        return list(self._markets)

    def bars(self, symbol: str, start_ms: int, end_ms: int) -> pa.Table:
        """Ground truth: closed 1m bars in [start_ms, end_ms) in lake shape, as of now."""
        return self._markets[symbol].bars(start_ms, end_ms, self.clock())

    def status(self, symbol: str) -> str:
        """'TRADING', or 'BREAK' once delisted (Binance keeps delisted pairs listed)."""
        end = self._markets[symbol].end_ms
        return "BREAK" if end is not None and end <= self.clock() else "TRADING"
