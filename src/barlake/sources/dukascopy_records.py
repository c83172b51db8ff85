"""Dukascopy candles and ticks in integer points, and how they become lake bars.

Both transports decode into these two shapes (prices as integer points plus the factor
that turns them into prices), so the side rule, the flat rule and ticks → 1m are written
once and the JSON and bi5 paths fill identical lake files:

- a price is `points / factor` (one correctly rounded division: 114543 / 100000 is
  exactly float("1.14543")); `mid` is `(bid + ask) / (2 · factor)` on each of O/H/L/C, its
  volume the mean of both sides' volumes;
- volumes are kept as the venue gives them (FX: millions of units) and rounded to 7
  significant digits, which turns the bi5 float32 `293.76001` back into the `293.76` the
  JSON API sends (exact for any value the venue wrote with up to 6 digits);
- a flat candle (O = H = L = C, volume 0) is how bi5 fills closed periods and quiet
  minutes; it is not a bar unless the caller keeps flats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from barlake.bars.schema import CORE_SCHEMA
from barlake.timeframes import MINUTE_MS, floor_ts

SIGNIFICANT = 7


@dataclass(slots=True)
class Candles:
    """One side's candles: open times (ms), O/H/L/C in points, volumes."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    factor: float

    FIELDS = ("ts", "open", "high", "low", "close", "volume")

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: np.ndarray | slice) -> Candles:
        return replace(self, **{name: getattr(self, name)[index] for name in self.FIELDS})

    def flats(self) -> np.ndarray:
        """Mask of flat zero-volume candles (closed periods, quiet minutes in bi5 files)."""
        o = self.open
        return (o == self.high) & (o == self.low) & (o == self.close) & (self.volume == 0)

    def inside(self, start: int, end: int) -> Candles:
        lo, hi = np.searchsorted(self.ts, [start, end])
        return self if lo == 0 and hi == len(self) else self.take(slice(int(lo), int(hi)))


@dataclass(slots=True)
class Ticks:
    """Quotes of one hour: times (ms), ask and bid in points, their volumes."""

    ts: np.ndarray
    ask: np.ndarray
    bid: np.ndarray
    ask_volume: np.ndarray
    bid_volume: np.ndarray
    factor: float

    def __len__(self) -> int:
        return len(self.ts)


def empty_candles(factor: float) -> Candles:
    ints = np.empty(0, np.int64)
    return Candles(ints, ints, ints, ints, ints, np.empty(0, np.float64), factor)


def canonical_volume(volume: np.ndarray) -> np.ndarray:
    """Round to 7 significant digits (float32 noise off, decimals the venue wrote kept)."""
    out = np.asarray(volume, dtype=np.float64).copy()
    positive = out > 0
    if positive.any():
        values = out[positive]
        digits = SIGNIFICANT - 1 - np.floor(np.log10(values))
        scale = 10.0 ** np.abs(digits)
        up = digits >= 0
        out[positive] = np.where(
            up, np.rint(values * scale) / scale, np.rint(values / scale) * scale
        )
    return out


def minutes(ticks: Ticks, side: str) -> Candles:
    """Ticks → 1m candles of one side (`bid` or `ask`): minutes without quotes get none."""
    if not len(ticks):
        return empty_candles(ticks.factor)
    price = ticks.bid if side == "bid" else ticks.ask
    volume = ticks.bid_volume if side == "bid" else ticks.ask_volume
    minute = floor_ts(ticks.ts, MINUTE_MS)
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]])
    ends = np.r_[starts[1:], len(minute)] - 1
    return Candles(
        ts=minute[starts],
        open=price[starts],
        high=np.maximum.reduceat(price, starts),
        low=np.minimum.reduceat(price, starts),
        close=price[ends],
        volume=canonical_volume(np.add.reduceat(volume, starts)),
        factor=ticks.factor,
    )


def bars(sides: dict[str, Candles], side: str, keep_flats: bool = False) -> pa.Table:
    """The lake's core table for `side` from the candles of the side(s) it needs."""
    if side != "mid":
        return _table(_unflat(sides[side], keep_flats), 1.0)
    bid, ask = _unflat(sides["bid"], keep_flats), _unflat(sides["ask"], keep_flats)
    _, in_bid, in_ask = np.intersect1d(bid.ts, ask.ts, assume_unique=True, return_indices=True)
    bid, ask = bid.take(in_bid), ask.take(in_ask)
    o, h, lo, c = (
        np.add(getattr(bid, name), getattr(ask, name), dtype=np.int64)
        for name in ("open", "high", "low", "close")
    )
    return _table(Candles(bid.ts, o, h, lo, c, (bid.volume + ask.volume) / 2, bid.factor), 2.0)


def _unflat(candles: Candles, keep_flats: bool) -> Candles:
    if keep_flats:
        return candles
    flat = candles.flats()
    return candles.take(~flat) if flat.any() else candles


def _table(candles: Candles, halves: float) -> pa.Table:
    divisor = candles.factor * halves
    columns = [pa.array(candles.ts.astype(np.int64, copy=False))]
    columns += [
        pa.array(getattr(candles, name) / divisor) for name in ("open", "high", "low", "close")
    ]
    columns.append(pa.array(candles.volume.astype(np.float64, copy=False)))
    return pa.Table.from_arrays(columns, schema=CORE_SCHEMA)


def fill_gaps(candles: Candles) -> Candles:
    """Flats at the previous close for the minutes a sparse answer skipped between two bars
    (dukascopy-node's gap filling), so kept flats look like a bi5 file's inside trading."""
    if len(candles) < 2:
        return candles
    grid = np.arange(candles.ts[0], candles.ts[-1] + MINUTE_MS, MINUTE_MS, dtype=np.int64)
    at = np.searchsorted(candles.ts, grid, side="right") - 1  # the bar at or before each minute
    real = candles.ts[at] == grid
    close = candles.close[at]
    pick = {
        name: np.where(real, getattr(candles, name)[at], close)
        for name in ("open", "high", "low", "close")
    }
    volume = np.where(real, candles.volume[at], 0.0)
    return Candles(grid, **pick, volume=volume, factor=candles.factor)
