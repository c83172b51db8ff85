"""Per-minute request-weight accounting with Binance's 429 → 418 escalation.

Weight is a running sum over the last `window_s` seconds (60 on the real venue; tests
shorten it, and exchangeInfo and the header name say so, as the wire format allows). Going over the budget answers 429 with a
`Retry-After` (seconds until enough weight has aged out); any request before that wait is
over is a client ignoring the 429, which earns an IP ban (418) for `ban_seconds`. Rejected
requests add no weight.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    status: int  # 200, 429 or 418
    used: int  # weight in the last 60 s, this request included when admitted
    retry_after: int = 0  # seconds
    until_ms: int = 0  # end of the wait or ban


class WeightLimiter:
    """One weight budget (per IP in reality; per emulated server here)."""

    def __init__(self, budget: int | None, ban_seconds: int = 120, window_s: int = 60) -> None:
        self.budget = budget
        self.ban_seconds = ban_seconds
        self.window_ms = window_s * 1000
        self._spent: deque[tuple[int, int]] = deque()
        self._cooldown_until = 0
        self._banned_until = 0
        self._forced: int | None = None
        self._lock = threading.Lock()

    def force_429(self, retry_after: int) -> None:
        """Make the next admit answer 429 whatever the budget (the `429` fault)."""
        with self._lock:
            self._forced = retry_after

    def used(self, now_ms: int) -> int:
        with self._lock:
            return self._expire(now_ms)

    def admit(self, weight: int, now_ms: int) -> Verdict:
        with self._lock:
            used = self._expire(now_ms)
            if now_ms < self._banned_until:
                return self._reject(418, used, self._banned_until, now_ms)
            if now_ms < self._cooldown_until:
                self._banned_until = now_ms + self.ban_seconds * 1000
                return self._reject(418, used, self._banned_until, now_ms)
            if self._forced is not None:
                self._cooldown_until = now_ms + self._forced * 1000
                self._forced = None
                return self._reject(429, used, self._cooldown_until, now_ms)
            if self.budget is not None and used + weight > self.budget:
                self._cooldown_until = self._free_at(used + weight - self.budget, now_ms)
                return self._reject(429, used, self._cooldown_until, now_ms)
            self._spent.append((now_ms, weight))
            return Verdict(200, used + weight)

    def charge(self, weight: int, now_ms: int) -> None:
        """Extra weight known only after answering (Hyperliquid: per 60 candles returned)."""
        with self._lock:
            self._spent.append((now_ms, weight))

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()
            self._cooldown_until = self._banned_until = 0
            self._forced = None

    def _expire(self, now_ms: int) -> int:
        while self._spent and self._spent[0][0] <= now_ms - self.window_ms:
            self._spent.popleft()
        return sum(w for _, w in self._spent)

    def _free_at(self, excess: int, now_ms: int) -> int:
        """When enough old weight leaves the window to fit `excess` more."""
        freed = 0
        for at, weight in self._spent:
            freed += weight
            if freed >= excess:
                return at + self.window_ms
        return now_ms + self.window_ms

    @staticmethod
    def _reject(status: int, used: int, until_ms: int, now_ms: int) -> Verdict:
        seconds = max(math.ceil((until_ms - now_ms) / 1000), 1)
        return Verdict(status, used, seconds, until_ms)


def interval_of(window_ms: int) -> tuple[str, int, str]:
    """(rateLimits interval, intervalNum, header suffix) for a window: 60 s → MINUTE, 1, "1M"."""
    seconds = window_ms // 1000
    if seconds % 60 == 0:
        return "MINUTE", seconds // 60, f"{seconds // 60}M"
    return "SECOND", seconds, f"{seconds}S"
