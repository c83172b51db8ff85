"""The health of one stream's connection: one drop counted once however many reader tasks see
it, redials spaced by exponential back-off with jitter (capped, reset once data flows again),
and a watchdog that replaces a socket that went silent.

ccxt.pro reconnects on the next `watch_*` call and re-subscribes by itself (PROTOCOLS §6.7),
but it only notices a dead peer through its own keepalive (Binance: 180 s × 2 misses), and a
server that keeps the TCP connection and answers pings while sending nothing is never noticed.
The watchdog closes every client of the instance when no data arrived for `stall_s`; the
readers then fail with a NetworkError and come back through the back-off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ccxt

from barlake.sources.retry import RetryPolicy

log = logging.getLogger(__name__)


class StalledError(ccxt.NetworkError):
    """No data for longer than the stall timeout: the socket is replaced."""


@dataclass
class Link:
    """Shared by the reader tasks of one ccxt.pro instance."""

    exchange: Any
    stall_s: float
    policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_s=0.2, cap_s=30.0))
    on_lost: Callable[[BaseException], None] | None = None
    epoch: int = 0  # bumped on every drop; readers compare it to know a drop was counted
    failures: int = 0  # drops since data last flowed: drives the back-off
    reconnects: int = 0
    messages: int = 0  # socket reads that brought data
    last_data: float = field(default_factory=time.monotonic)
    ready_at: float = 0.0

    def heard(self) -> None:
        """Data arrived: the link is healthy, the back-off starts over."""
        self.last_data = time.monotonic()
        self.failures = 0
        self.messages += 1

    def lost(self, epoch: int, error: BaseException) -> bool:
        """A reader saw `error` while on `epoch`. True if this is news (the drop is counted and
        the next dial is scheduled); False if another reader already reported it."""
        if epoch != self.epoch:
            return False
        self.epoch += 1
        self.failures += 1
        self.reconnects += 1
        delay = self.policy.backoff(self.failures)
        self.ready_at = time.monotonic() + delay
        log.warning(
            "%s: connection lost (%s); reconnect #%d in %.2f s",
            self.exchange.id, str(error).splitlines()[0][:160], self.reconnects, delay,
        )  # fmt: skip
        if self.on_lost is not None:
            self.on_lost(error)
        return True

    async def wait_ready(self) -> None:
        """Sleep out the back-off; the silence clock starts at the dial."""
        delay = self.ready_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.last_data = max(self.last_data, time.monotonic())

    def kill(self, reason: str) -> None:
        """Close every open socket of the instance; pending watches fail with StalledError.
        (A dial still in progress is left to ccxt's own connection timeout.)"""
        clients = getattr(self.exchange, "clients", None) or {}
        for client in list(clients.values()):
            if not client.closed():
                client.on_error(StalledError(reason))

    async def watchdog(self) -> None:
        """Runs until cancelled: replaces the sockets after `stall_s` without data."""
        tick = max(0.05, self.stall_s / 4)
        while True:
            await asyncio.sleep(tick)
            silent = time.monotonic() - max(self.last_data, self.ready_at)
            if silent > self.stall_s and self.exchange.clients:
                self.last_data = time.monotonic()  # give the redial a full stall_s
                log.warning(
                    "%s: no data for %.1f s; replacing the socket", self.exchange.id, silent
                )
                self.kill(f"no data for {silent:.1f} s")
