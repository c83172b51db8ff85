"""A synthetic but consistent L2 order book around the last traded price.

The book at update id `k` is a pure function of market time `k · update_ms`: `levels` bids
on a price grid strictly below the last trade price and `levels` asks from the next grid
step up; each level's size is a hash of (symbol, price, epoch) where the epoch advances
every `epoch_updates` ids with a per-level phase, so a few sizes change at a time.

A diff from id `k0` to `k1` names every level that may have changed in between (the price
band the last price swept, and each level whose size epoch turned), with its size at `k1`
or 0 — so REST snapshot + WS diffs, applied as Binance documents (U ≤ lastUpdateId+1 ≤ u),
rebuild exactly `book(symbol, k1)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from barlake.emulator.trades import Tape

BOOKS_CACHED = 1024
U64 = np.uint64
MIX_1, MIX_2, GOLDEN = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB), U64(0x9E3779B97F4A7C15)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 arrays (wrapping arithmetic): a cheap stable hash."""
    x = x.astype(U64) + GOLDEN
    x = (x ^ (x >> U64(30))) * MIX_1
    x = (x ^ (x >> U64(27))) * MIX_2
    return x ^ (x >> U64(31))


@dataclass(frozen=True)
class Book:
    """One side each, best first: prices in ticks, sizes in lots."""

    update_id: int
    bid_prices: np.ndarray
    bid_sizes: np.ndarray
    ask_prices: np.ndarray
    ask_sizes: np.ndarray
    price_decimals: int
    qty_decimals: int

    def bids(self, top: int | None = None) -> list[tuple[int, int]]:
        """The best `top` bids (all by default) as (price, size) pairs."""
        return list(zip(self.bid_prices[:top].tolist(), self.bid_sizes[:top].tolist(), strict=True))

    def asks(self, top: int | None = None) -> list[tuple[int, int]]:
        return list(zip(self.ask_prices[:top].tolist(), self.ask_sizes[:top].tolist(), strict=True))


@dataclass(frozen=True)
class Diff:
    """Levels to set (size 0 = remove) taking a book from id `first - 1` to id `last`."""

    first: int
    last: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


class BookModel:
    """The books of one venue's markets, derived from its trade tape. Books are cached: at one
    update id REST depth, every depth stream, bookTicker and ticker read the same one."""

    def __init__(
        self, tape: Tape, levels: int = 20, update_ms: int = 10, epoch_updates: int = 50
    ) -> None:
        self.tape = tape
        self.levels = levels
        self.update_ms = update_ms
        self.epoch_updates = epoch_updates
        self.book = lru_cache(maxsize=BOOKS_CACHED)(self._book)

    def update_id(self, now_ms: int) -> int:
        return now_ms // self.update_ms

    def _book(self, symbol: str, update_id: int) -> Book:
        """The book as of update id `update_id` (market time `update_id · update_ms`)."""
        spec = self.tape.book.get(symbol).spec
        bid, ask = self._best(symbol, update_id)
        step = self._grid(symbol)
        n = np.arange(self.levels, dtype=np.int64)
        bids = bid - n * step
        bids = bids[bids > 0]
        asks = ask + n * step
        return Book(
            update_id, bids, self._sizes(symbol, bids, update_id), asks,
            self._sizes(symbol, asks, update_id), spec.price_decimals, spec.qty_decimals,
        )  # fmt: skip

    def diff(self, symbol: str, since_id: int, update_id: int) -> Diff:
        """What changed after `since_id` up to and including `update_id`."""
        t0, t1 = since_id * self.update_ms, update_id * self.update_ms
        swept = self.tape.between(symbol, t0 + 1, t1 + 1).prices
        last = self._last(symbol, t0)
        prices = np.concatenate(([last], swept)) if last is not None else swept
        step, depth = self._grid(symbol), (self.levels - 1) * self._grid(symbol)
        if not len(prices):
            return Diff(since_id + 1, update_id, [], [])
        low_bid = self._bid_of(int(prices.min()), step)
        high_bid = self._bid_of(int(prices.max()), step)
        after = self.book(symbol, update_id)
        bids = self._side(
            symbol, (low_bid - depth, high_bid), (high_bid - depth, low_bid),
            after.bid_prices, after.bid_sizes, since_id, update_id,
        )  # fmt: skip
        asks = self._side(
            symbol, (low_bid + step, high_bid + step + depth), (high_bid + step, low_bid + step + depth),
            after.ask_prices, after.ask_sizes, since_id, update_id,
        )  # fmt: skip
        return Diff(since_id + 1, update_id, bids, asks)

    def _side(
        self,
        symbol: str,
        band: tuple[int, int],
        kept: tuple[int, int],
        prices: np.ndarray,
        sizes: np.ndarray,
        since_id: int,
        update_id: int,
    ) -> list[tuple[int, int]]:
        """Levels of `band` that may differ: outside `kept` (in the book all along) or with a
        size epoch that turned; each with its size now, or 0 if it left the book."""
        step = self._grid(symbol)
        grid = np.arange(max(band[0], step), band[1] + 1, step, dtype=np.int64)
        now = dict(zip(prices.tolist(), sizes.tolist(), strict=True))
        steady = (grid >= kept[0]) & (grid <= kept[1])
        turned = self._epoch(symbol, grid, since_id) != self._epoch(symbol, grid, update_id)
        changed = grid[~steady | turned]
        return [(p, now.get(p, 0)) for p in changed.tolist()]

    def _best(self, symbol: str, update_id: int) -> tuple[int, int]:
        step = self._grid(symbol)
        last = self._last(symbol, update_id * self.update_ms)
        bid = self._bid_of(last if last is not None else self._start(symbol), step)
        return bid, bid + step

    def _last(self, symbol: str, at_ms: int) -> int | None:
        return self.tape.last_price(symbol, at_ms)

    @staticmethod
    def _bid_of(price: int, step: int) -> int:
        """The highest grid level strictly below `price` (never below one step)."""
        return max((price - 1) // step * step, step)

    def _grid(self, symbol: str) -> int:
        """Level spacing: about one basis point of the listing price, at least one tick."""
        spec = self.tape.book.get(symbol).spec
        return max(1, round(spec.price * 10**spec.price_decimals * 1e-4))

    def _start(self, symbol: str) -> int:
        spec = self.tape.book.get(symbol).spec
        return round(spec.price * 10**spec.price_decimals)

    def _epoch(self, symbol: str, prices: np.ndarray, update_id: int) -> np.ndarray:
        hashed = mix(prices.astype(U64) ^ self._seed(symbol))
        phase = (hashed % U64(self.epoch_updates)).astype(np.int64)
        return (update_id + phase) // self.epoch_updates

    def _sizes(self, symbol: str, prices: np.ndarray, update_id: int) -> np.ndarray:
        spec = self.tape.book.get(symbol).spec
        top = max(int(spec.volume * 10**spec.qty_decimals / 4), 2)
        epoch = self._epoch(symbol, prices, update_id).astype(U64)
        key = mix(mix(prices.astype(U64) ^ self._seed(symbol)) ^ epoch)
        return (key % U64(top)).astype(np.int64) + 1

    def _seed(self, symbol: str) -> np.uint64:
        return U64(sum(ord(ch) << (8 * (i % 7)) for i, ch in enumerate(symbol)))
