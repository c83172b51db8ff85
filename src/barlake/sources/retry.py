"""Retry only what is temporary, and give an instrument up after a streak of failures.

RateLimitedError waits for the venue's Retry-After (the budget pauses every worker);
UnavailableError (5xx, timeouts, drops, garbled bodies) backs off exponentially with
jitter; anything else (bad symbol, bad interval, 4xx) is raised at once — retrying a
request the venue refused cannot help. `fail_streak` consecutive failures end the
instrument with a `GaveUpError` naming the last cause.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from barlake.errors import RateLimitedError, SourceError, UnavailableError
from barlake.sources.budget import Budget

T = TypeVar("T")
log = logging.getLogger(__name__)


class GaveUpError(SourceError):
    """An instrument failed `fail_streak` times in a row; the others carry on. Run again later."""


@dataclass
class RetryPolicy:
    fail_streak: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    pace_s: float = 0.0  # --sleep-ms: a pause before every request, on top of the budget
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def backoff(self, failures: int) -> float:
        """Exponential back-off with jitter in [½, 1] of the step, capped."""
        step = min(self.cap_s, self.base_s * 2 ** (failures - 1))
        return step * random.uniform(0.5, 1.0)


@dataclass
class Attempts:
    """Counts one instrument's failure streak across all of its requests (thread-safe: a
    feed may fetch several files at once)."""

    policy: RetryPolicy
    name: str
    streak: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def call(self, request: Callable[[], T], budget: Budget | None = None) -> T:
        while True:
            if self.policy.pace_s > 0:
                self.policy.sleep(self.policy.pace_s)
            try:
                result = request()
            except (RateLimitedError, UnavailableError) as error:
                with self._lock:
                    self.streak += 1
                    streak = self.streak
                    self.retries += 1
                if streak >= self.policy.fail_streak:
                    limit = self.policy.fail_streak
                    raise GaveUpError(
                        f"{self.name}: gave up after {limit} failures in a row; last: {error}"
                    ) from error
                self._wait(error, budget, streak)
                continue
            with self._lock:
                self.streak = 0
            return result

    def _wait(self, error: SourceError, budget: Budget | None, streak: int) -> None:
        if isinstance(error, RateLimitedError):
            seconds = error.retry_after if error.retry_after is not None else self.policy.backoff(1)
            log.warning(
                "%s: rate limited, every worker waits %.1f s (%s)", self.name, seconds, error
            )
            if budget is not None:
                budget.pause(seconds)  # the next acquire() sleeps; other workers too
                return
            self.policy.sleep(seconds)
            return
        seconds = self.policy.backoff(streak)
        log.info("%s: %s; retry in %.2f s", self.name, error, seconds)
        self.policy.sleep(seconds)
