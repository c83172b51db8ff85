"""What every source hands the sync: pages of closed 1m bars and the range each page answers.

A source never touches the lake. `answered` is the promise the lake's coverage is built
on: inside it the venue has no bars other than the ones in `bars` (so a maintenance hole
or the time before a listing becomes known-empty and is not fetched again).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Protocol, TypeVar

import numpy as np
import pyarrow as pa

from barlake.bars.schema import CORE_SCHEMA, TIMESTAMP

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Page:
    """Closed bars (lake core schema, sorted, unique, inside `answered`) and what they answer."""

    bars: pa.Table
    answered: tuple[int, int]
    via: str  # "rest", "archive-month", "archive-day": shown in progress and the summary
    requests: int = 1


class Feed(Protocol):
    """One instrument on one venue, bound to its client; made per worker thread."""

    def fetch(self, start: int, end: int) -> Iterator[Page]:
        """Pages covering [start, end) in time order; raises SourceError subclasses."""
        ...

    def earliest(self, now_ms: int) -> int | None:
        """The first minute the venue can still serve (retention), None when unlimited."""
        ...

    def listing(self) -> int | None:
        """Open time of the venue's first bar for this instrument (a probe), None if unknown."""
        ...


def bars_table(rows: list[list[float]] | np.ndarray) -> pa.Table:
    """[[ts, o, h, l, c, v], …] → the lake's core schema (timestamps as int64 ms)."""
    data = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    arrays = [pa.array(data[:, 0].astype(np.int64))] + [pa.array(data[:, i]) for i in range(1, 6)]
    return pa.Table.from_arrays(arrays, schema=CORE_SCHEMA)


def inside(table: pa.Table, start: int, end: int) -> pa.Table:
    """Rows of a sorted table whose open time is in [start, end)."""
    ts = table.column(TIMESTAMP).to_numpy()
    lo, hi = np.searchsorted(ts, [start, end], side="left")
    return table.slice(int(lo), int(hi - lo))


def prefetched(
    items: Iterable[T], load: Callable[[T], R], depth: int, name: str
) -> Iterator[tuple[T, R]]:
    """(item, load(item)) in the items' order, the next `depth` items loading meanwhile on
    helper threads named `name`; loads not started yet are dropped when the caller stops."""
    pool = ThreadPoolExecutor(max(1, depth), thread_name_prefix=name)
    pending = iter(items)
    try:
        ahead: deque[tuple[T, Future[R]]] = deque(
            (item, pool.submit(load, item)) for item in islice(pending, depth)
        )
        while True:
            ahead.extend((later, pool.submit(load, later)) for later in islice(pending, 1))
            if not ahead:
                return
            item, loading = ahead.popleft()
            yield item, loading.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
