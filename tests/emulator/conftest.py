"""A fresh emulator per test (starting one takes milliseconds) and a plain HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from barlake.emulator import Emulator, clients


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, *, body: Any = None, method: str | None = None, timeout: float = 5.0,
          headers: dict[str, str] | None = None) -> Reply:  # fmt: skip
    """GET (or POST a JSON body); HTTP errors come back as replies, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def http() -> Callable[..., Reply]:
    return fetch


# -- live streams (WebSocket tests) ------------------------------------------------------------

LIVE_START = "2026-11-20T12:00:50"  # 10 market seconds before a minute closes
LIVE_SPEED = 60.0  # one market minute per real second


@pytest.fixture
def live() -> Iterator[Emulator]:
    """An emulator on an accelerated clock with fast liveness knobs and forming updates."""
    from barlake.emulator import Accelerated, utc_ms

    with Emulator(clock=Accelerated(utc_ms(LIVE_START), LIVE_SPEED)) as emu:
        for server in (emu.binance_ws, emu.hyperliquid_ws):
            server.knobs.kline_push_ms = 100
        yield emu


@pytest.fixture
def pro_binance() -> Callable[..., Any]:
    """`pro_binance(emu, **config)` → a ccxt.pro binance instance (the test closes it)."""
    return lambda emu, **config: clients.pro_binance(emu.base_url, emu.binance_ws_url, **config)


@pytest.fixture
def pro_hyperliquid() -> Callable[..., Any]:
    """`pro_hyperliquid(emu, **config)` → a ccxt.pro hyperliquid instance."""
    return lambda emu, **config: clients.pro_hyperliquid(
        emu.hyperliquid_url, emu.hyperliquid_ws_url, **config
    )
