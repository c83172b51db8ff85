"""A request-weight budget shared by every worker that talks to one venue host.

Venues limit per IP (Binance: 6000 weight per minute for spot, read from
`exchangeInfo.rateLimits`), while ccxt throttles per instance and ignores both the
`X-MBX-USED-WEIGHT-*` header and `Retry-After`. So the sync keeps one sliding-window
budget per host: a request waits until its weight fits under 95 % of the limit,
the server's own count (the header) raises ours when someone else shares the IP, and a
429/418 pauses every worker until its Retry-After has passed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

HEADROOM = 0.95


class Budget:
    """Sliding-window weight accounting; thread-safe, blocking `acquire`."""

    def __init__(
        self,
        limit: float,
        window_s: float = 60.0,
        *,
        headroom: float = HEADROOM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.headroom = headroom
        self.clock = clock
        self.waited_s = 0.0
        self._spent: deque[tuple[float, float]] = deque()
        self._paused_until = 0.0
        self._cond = threading.Condition()

    def configure(self, limit: float, window_s: float) -> None:
        """Adopt the venue's published limit (e.g. from exchangeInfo.rateLimits)."""
        with self._cond:
            self.limit, self.window_s = limit, window_s
            self._cond.notify_all()

    @property
    def capacity(self) -> float:
        return self.limit * self.headroom

    def used(self) -> float:
        with self._cond:
            return self._expire(self.clock())

    def acquire(self, weight: float) -> float:
        """Block until `weight` fits (and no pause is on), then spend it; returns seconds waited."""
        started = self.clock()
        with self._cond:
            while True:
                now = self.clock()
                used = self._expire(now)
                wait = self._paused_until - now
                if wait <= 0:
                    if used + weight <= self.capacity or not self._spent:
                        self._spent.append((now, weight))
                        break
                    wait = self._free_at(used + weight - self.capacity) - now
                self._cond.wait(timeout=max(wait, 0.005))
        waited = self.clock() - started
        self.waited_s += waited
        return waited

    def observe(self, server_used: float) -> None:
        """The venue's count for the current window (header); only ever raises ours."""
        with self._cond:
            now = self.clock()
            gap = server_used - self._expire(now)
            if gap > 0:
                self._spent.append((now, gap))

    def pause(self, seconds: float) -> None:
        """Nobody sends for `seconds` (the venue's Retry-After)."""
        with self._cond:
            self._paused_until = max(self._paused_until, self.clock() + seconds)

    @property
    def _span(self) -> float:
        """The window plus a margin: the venue stamps a request when it arrives, a little
        after we spend it here, so our copy must forget it a little later than the venue."""
        return self.window_s + min(1.0, max(0.05, 0.02 * self.window_s))

    def _expire(self, now: float) -> float:
        while self._spent and self._spent[0][0] <= now - self._span:
            self._spent.popleft()
        return sum(w for _, w in self._spent)

    def _free_at(self, excess: float) -> float:
        freed = 0.0
        for at, weight in self._spent:
            freed += weight
            if freed >= excess:
                return at + self._span
        return self.clock() + self._span


class Budgets:
    """One Budget per venue host for a sync run (created on first use)."""

    def __init__(self) -> None:
        self._items: dict[str, Budget] = {}
        self._lock = threading.Lock()

    def get(self, key: str, limit: float, window_s: float) -> Budget:
        with self._lock:
            if key not in self._items:
                self._items[key] = Budget(limit, window_s)
            return self._items[key]

    def waited_s(self) -> float:
        with self._lock:
            return sum(b.waited_s for b in self._items.values())
