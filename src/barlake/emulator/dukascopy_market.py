"""A deterministic synthetic FX/CFD market: hourly quotes (ticks) are the truth, candles and
the ground-truth bars are built from them, so every Dukascopy path reads the same numbers.

Each UTC day is drawn on its own from a seed (venue, symbol, day): a bid walk in integer
points from the day's open (a slow walk across days) bridged to the next day's open, an
ask a few points above, volumes in units of 10 000 (0.01 million, FX style). Quotes come
minute by minute (Poisson, busier in the London/New York hours), so some trading minutes
have none — the bi5 minute file shows them as flats, the JSON API skips them.

Closed: FX and CFDs from Friday 22:00 to Sunday 22:00 UTC and on 25 December and 1 January
(whole UTC days); crypto CFDs never. Before `first_ms` there is no data at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import pyarrow as pa

from barlake.emulator.market import PER_DAY, DayOpens, stable_seed, utc_ms, wall_clock_ms
from barlake.timeframes import DAY_MS, MINUTE_MS, floor_ts

VOLUME_UNIT = 10_000  # every quote's volume is a multiple of 10 000 units (0.01 million)


@dataclass(frozen=True)
class FxSpec:
    code: str  # bi5 name, EURUSD
    json_code: str  # JSON API name, EUR-USD
    factor: int  # points per 1.0 of price
    price: float
    calendar: str = "fx"  # "fx" | "cfd" | "crypto"
    first_ms: int = utc_ms("2003-05-04")
    spread: int = 2  # points
    step: int = 2  # largest tick move in points
    per_minute: float = 2.0  # mean quotes per trading minute


@dataclass(frozen=True)
class Quotes:
    """Ticks of a span: times (ms), ask and bid points, volumes in units."""

    ts: np.ndarray
    ask: np.ndarray
    bid: np.ndarray
    ask_units: np.ndarray
    bid_units: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: np.ndarray | slice) -> Quotes:
        return Quotes(
            *(getattr(self, n)[index] for n in ("ts", "ask", "bid", "ask_units", "bid_units"))
        )


@dataclass(frozen=True)
class Dense:
    """Candles of one side, one per period (flats for periods without quotes)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    units: np.ndarray  # volume in units; 0 for flats

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: np.ndarray | slice) -> Dense:
        names = ("ts", "open", "high", "low", "close", "units")
        return Dense(*(getattr(self, n)[index] for n in names))


def trading_minutes(calendar: str, day: int) -> np.ndarray:
    """Mask of the 1440 minutes of UTC day `day` (days since the epoch) in which it trades."""
    mask = np.ones(PER_DAY, dtype=bool)
    if calendar == "crypto":
        return mask
    moment = datetime.fromtimestamp(day * 86_400, tz=UTC)
    if (moment.month, moment.day) in ((12, 25), (1, 1)):
        return ~mask
    weekday = moment.weekday()
    if weekday == 5:
        return ~mask
    if weekday == 4:
        mask[22 * 60 :] = False
    if weekday == 6:
        mask[: 22 * 60] = False
    return mask


class FxMarket:
    """The quotes and candles of one instrument."""

    def __init__(self, spec: FxSpec, venue: str = "dukascopy") -> None:
        self.spec = spec
        self._seed = stable_seed(venue, spec.code)
        self._first_day = spec.first_ms // DAY_MS
        shocks = np.random.default_rng([self._seed, 1]).standard_normal(4096).tolist()
        self._opens = DayOpens(spec.price, self._first_day, shocks, 0.004, 0.02)
        self.day_quotes = lru_cache(maxsize=64)(self._make_day)
        self.minute_candles = lru_cache(maxsize=64)(self._make_minutes)

    def quotes(self, start_ms: int, end_ms: int) -> Quotes:
        """Every quote with time in [start_ms, end_ms)."""
        days = (
            range(max(start_ms, 0) // DAY_MS, (end_ms - 1) // DAY_MS + 1)
            if end_ms > start_ms
            else []
        )
        parts = [self.day_quotes(d) for d in days]
        joined = Quotes(*(np.concatenate([getattr(p, n) for p in parts] or [np.empty(0, np.int64)])
                          for n in ("ts", "ask", "bid", "ask_units", "bid_units")))  # fmt: skip
        lo, hi = np.searchsorted(joined.ts, [start_ms, end_ms])
        return joined.take(slice(int(lo), int(hi)))

    def candles(self, side: str, start_ms: int, end_ms: int, size_ms: int) -> Dense:
        """Dense candles of `size_ms` (a minute, an hour or a day) over whole days."""
        days = range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1)
        parts = [self.minute_candles(d, side) for d in days]
        minute = Dense(*(np.concatenate([getattr(p, n) for p in parts])
                         for n in ("ts", "open", "high", "low", "close", "units")))  # fmt: skip
        minute = minute.take((minute.ts >= start_ms) & (minute.ts < end_ms))
        return minute if size_ms == MINUTE_MS else aggregate(minute, size_ms, start_ms)

    # -- drawing ---------------------------------------------------------------------------

    def _make_day(self, day: int) -> Quotes:
        spec = self.spec
        empty = np.empty(0, np.int64)
        if day < self._first_day:
            return Quotes(empty, empty, empty, empty, empty)
        open_mask = trading_minutes(spec.calendar, day)
        rng = np.random.default_rng([self._seed, day])
        busy = np.where((np.arange(PER_DAY) // 60 >= 7) & (np.arange(PER_DAY) // 60 < 20), 1.6, 0.6)
        counts = rng.poisson(spec.per_minute * busy) * open_mask
        n = int(counts.sum())
        if n == 0:
            return Quotes(empty, empty, empty, empty, empty)
        minute = np.repeat(np.arange(PER_DAY, dtype=np.int64), counts)
        offsets = rng.integers(0, MINUTE_MS, n)
        order = np.lexsort((offsets, minute))
        ts = day * DAY_MS + minute[order] * MINUTE_MS + offsets[order]
        start = round(math.exp(self._opens.log(day)) * spec.factor)
        target = round(math.exp(self._opens.log(day + 1)) * spec.factor)
        walk = np.cumsum(rng.integers(-spec.step, spec.step + 1, n))
        drift = np.rint(np.arange(1, n + 1) / n * (target - start - walk[-1])).astype(np.int64)
        bid = np.maximum(start + walk + drift, 1)
        ask = bid + spec.spread + rng.integers(0, spec.spread + 1, n)
        units = rng.integers(1, 500, (2, n)) * VOLUME_UNIT
        return Quotes(ts, ask, bid, units[0], units[1])

    def _make_minutes(self, day: int, side: str) -> Dense:
        """The day's 1440 minute candles of one side; a minute without quotes is a flat at
        the previous close with volume 0 (what a bi5 minute file holds)."""
        quotes = self.day_quotes(day)
        grid = day * DAY_MS + np.arange(PER_DAY, dtype=np.int64) * MINUTE_MS
        price = quotes.bid if side == "bid" else quotes.ask
        units = quotes.bid_units if side == "bid" else quotes.ask_units
        last = self._last_price(day, side)
        close_at = np.full(PER_DAY, last, dtype=np.int64)
        has = np.zeros(PER_DAY, dtype=bool)
        volume = np.zeros(PER_DAY, dtype=np.int64)
        at = starts = ends = np.empty(0, np.int64)
        if len(quotes):
            slot = (quotes.ts - day * DAY_MS) // MINUTE_MS
            starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
            ends = np.r_[starts[1:], len(slot)] - 1
            at = slot[starts]
            has[at], close_at[at] = True, price[ends]
            volume[at] = np.add.reduceat(units, starts)
        latest = np.maximum.accumulate(np.where(has, np.arange(PER_DAY), -1))
        close = np.where(latest >= 0, close_at[np.maximum(latest, 0)], last)
        prev = np.r_[last, close[:-1]]
        open_, high, low = prev.copy(), prev.copy(), prev.copy()
        if len(at):
            open_[at] = price[starts]
            high[at] = np.maximum.reduceat(price, starts)
            low[at] = np.minimum.reduceat(price, starts)
        return Dense(grid, open_, high, low, close, volume)

    def _last_price(self, day: int, side: str) -> int:
        """The last quote before `day` (the level flats carry), or the day's open."""
        for earlier in range(day - 1, max(day - 15, self._first_day - 1), -1):
            quotes = self.day_quotes(earlier)
            if len(quotes):
                return int((quotes.bid if side == "bid" else quotes.ask)[-1])
        return round(math.exp(self._opens.log(day)) * self.spec.factor)


def aggregate(minute: Dense, size_ms: int, anchor_ms: int) -> Dense:
    """Dense minute candles → dense candles of `size_ms` opening at anchor + k · size."""
    ids = (minute.ts - anchor_ms) // size_ms
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)] - 1
    return Dense(
        ts=anchor_ms + ids[starts] * size_ms,
        open=minute.open[starts],
        high=np.maximum.reduceat(minute.high, starts),
        low=np.minimum.reduceat(minute.low, starts),
        close=minute.close[ends],
        units=np.add.reduceat(minute.units, starts),
    )


DEFAULT_SPECS = (  # first days as Dukascopy's own histories start
    FxSpec("EURUSD", "EUR-USD", 100_000, 1.0850),
    FxSpec("GBPUSD", "GBP-USD", 100_000, 1.2650, spread=3),
    FxSpec("USDJPY", "USD-JPY", 1_000, 148.50, spread=3, step=3),
    FxSpec("XAUUSD", "XAU-USD", 1_000, 2_050.0, spread=250, step=60, first_ms=utc_ms("2003-05-05")),
    FxSpec(
        "USA500IDXUSD", "USA500.IDX-USD", 1_000, 4_750.0, "cfd", spread=400, step=300,
        first_ms=utc_ms("2012-01-16"),
    ),
    FxSpec(
        "BTCUSD", "BTC-USD", 10, 43_000.0, "crypto", spread=150, step=40,
        first_ms=utc_ms("2017-05-07"),
    ),
)  # fmt: skip


@dataclass
class FxBook:
    """The emulated Dukascopy instruments by code, sharing one clock."""

    specs: Iterable[FxSpec] = DEFAULT_SPECS
    clock: Callable[[], int] = wall_clock_ms
    markets: dict[str, FxMarket] = field(init=False)

    def __post_init__(self) -> None:
        self.markets = {spec.code: FxMarket(spec) for spec in self.specs}
        self.by_json = {m.spec.json_code: m for m in self.markets.values()}

    def bars(self, code: str, start_ms: int, end_ms: int, side: str = "bid") -> pa.Table:
        """Ground truth: closed 1m bars of minutes with quotes, in lake shape, as of now.
        Prices are points / factor (mid: (bid + ask) / (2 · factor)); volumes in millions
        (mid: the mean of both sides)."""
        if side not in ("bid", "ask", "mid"):
            raise ValueError(f"side {side!r}: use bid, ask or mid")
        market = self.markets[code]
        end = min(end_ms, floor_ts(self.clock(), MINUTE_MS))
        if end <= start_ms:
            return _table(np.empty(0, np.int64), [np.empty(0)] * 4, np.empty(0))
        factor = float(market.spec.factor)
        names = ("open", "high", "low", "close")
        if side == "mid":
            b, a = (_real(market.candles(s, start_ms, end, MINUTE_MS)) for s in ("bid", "ask"))
            prices = [(getattr(b, n) + getattr(a, n)) / (2 * factor) for n in names]
            return _table(b.ts, prices, (b.units / 1e6 + a.units / 1e6) / 2)
        c = _real(market.candles(side, start_ms, end, MINUTE_MS))
        return _table(c.ts, [getattr(c, n) / factor for n in names], c.units / 1e6)


def _real(dense: Dense) -> Dense:
    return dense.take(dense.units > 0)


def _table(ts: np.ndarray, prices: list[np.ndarray], volume: np.ndarray) -> pa.Table:
    names = ["timestamp_ms", "open", "high", "low", "close", "volume"]
    arrays = [pa.array(ts, pa.int64())]
    arrays += [pa.array(np.asarray(x, np.float64)) for x in (*prices, volume)]
    return pa.Table.from_arrays(arrays, names=names)
