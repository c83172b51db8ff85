"""Sync test helpers: instruments pointing at an emulator, the sync with fast retries."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from barlake.emulator import Emulator, utc_ms
from barlake.instruments import Instrument
from barlake.lake import Lake
from barlake.sources.registry import FeedFactory
from barlake.sources.retry import RetryPolicy
from barlake.sync import InstrumentResult, SyncOptions, Window, sync

START = utc_ms("2025-02-27")
END = utc_ms("2025-03-14T05:30")  # crosses a month, a partial day and the 03-12 maintenance hole


def spot(emu: Emulator, symbol: str = "BTC/USDT", *, archive: bool = True, **kw) -> Instrument:
    name = symbol.replace("/", "").split(":")[0]
    extra = {"archive_url": emu.archive_url} if archive else {}
    return Instrument(name, "ccxt", symbol, "binance", base_url=emu.base_url, **extra, **kw)


def run(
    lake: Lake,
    items: list[Instrument],
    start: int | None = START,
    end: int | None = END,
    *,
    archive: bool = True,
    streak: int = 5,
    timeout_s: float = 10.0,
    workers: int = 2,
    clock: Callable[[], int] | None = None,
) -> list[InstrumentResult]:
    factory = FeedFactory(
        RetryPolicy(fail_streak=streak, base_s=0.02, cap_s=0.2),
        timeout_s=timeout_s,
        use_archive=archive,
        **({"clock": clock} if clock else {}),
    )
    options = SyncOptions(Window(start, end), (), {"ccxt": workers}, factory=factory)
    return sync(lake, items, options)


def assert_equal_bars(got: pa.Table, want: pa.Table) -> None:
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        assert np.array_equal(got.column(name).to_numpy(), want.column(name).to_numpy()), name
