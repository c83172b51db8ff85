"""Shared by the emulator tests: running a client scenario and the truth in ccxt's row shape."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run(coro: Coroutine[Any, Any, Any], timeout: float = 20.0) -> Any:
    """Run an async client scenario to the end, failing it after `timeout` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def ohlcv(table: Any) -> list[list[float]]:
    """Ground-truth rows in ccxt's shape: [ts, o, h, l, c, v]."""
    cols = [table.column(n).to_pylist() for n in table.column_names]
    return [list(row) for row in zip(*cols, strict=True)]
