"""The records that flow from a watcher to a sink, and the settings of one stream.

Shared by the watcher (`stream.watch`), the trades→bars aggregator, the sinks and the batch
runner, so each speaks the same few types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

KINDS = ("ohlcv", "trades", "ticker", "orderbook")
FORMATS = ("sqlite", "csv", "parquet", "feather", "lake")
MARKETS = ("spot", "swap")


class Bar(NamedTuple):
    """One closed bar; `timestamp_ms` is the bar's open time (UTC epoch ms)."""

    symbol: str
    timeframe: str
    timestamp_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class Trade(NamedTuple):
    """One public trade as ccxt.pro reports it (`id` is the venue's trade id, as text)."""

    symbol: str
    timestamp_ms: int
    price: float
    amount: float
    side: str
    id: str


class Snapshot(NamedTuple):
    """A ticker or top-N order-book snapshot taken at `timestamp_ms` (local receive time).

    `data` is flat: ticker fields (`bid`, `ask`, `last`, ...) or `bid_px_0`, `bid_sz_0`,
    `ask_px_0`, ... for the book, so every sink can write it as one row.
    """

    symbol: str
    kind: str
    timestamp_ms: int
    data: dict[str, float | None]


class Sink(Protocol):
    """Where a stream's records go. Writes may be buffered; `flush` makes them durable and
    `close` flushes and releases the target. Bars handed over are closed and may repeat
    (a backfill overlapping a replay): sinks keep one row per (symbol, timeframe, timestamp)."""

    def write_bars(self, bars: list[Bar]) -> None: ...

    def write_trades(self, trades: list[Trade]) -> None: ...

    def write_snapshots(self, snapshots: list[Snapshot]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StreamConfig:
    """One `barlake stream` (or one batch task in `mode: stream`)."""

    exchange: str
    symbols: tuple[str, ...]
    kind: str = "ohlcv"
    market: str = "spot"
    timeframe: str = "1m"
    trades_to_ohlcv: bool = False
    duration_s: float | None = None
    format: str = "sqlite"
    out: Path | None = None
    table: str | None = None
    flush_every: int = 1
    base_url: str | None = None
    ws_url: str | None = None
    lake: Path | None = None
    depth: int = 10
    snapshot_interval_s: float = 1.0
    grace_ms: int = 1500
    options: dict[str, object] = field(default_factory=dict)


@dataclass
class StreamMetrics:
    """What a stream reports at the end (and live, for the terminal)."""

    messages: int = 0
    bars: int = 0
    trades: int = 0
    snapshots: int = 0
    reconnects: int = 0
    backfilled_bars: int = 0
    max_latency_ms: float = 0.0
    errors: list[str] = field(default_factory=list)
