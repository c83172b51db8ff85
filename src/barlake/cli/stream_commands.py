"""`barlake stream`: live closed bars, trades, tickers or order-book snapshots from any ccxt.pro
exchange into SQLite, CSV, Parquet, Feather or the lake, until --duration or Ctrl+C."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live
from rich.table import Table

from barlake.cli.options import LakeOpt, console

if TYPE_CHECKING:
    from barlake.stream.model import StreamConfig, StreamMetrics
    from barlake.stream.recorder import StreamUpdate

out = console()

Opt = typer.Option
KindOpt = Annotated[str, Opt("--stream", help="ohlcv (closed bars), trades, ticker or orderbook.")]
SymbolsOpt = Annotated[str | None, Opt("--symbols", help="Several symbols: BTC/USDT,ETH/USDT.")]
ToBarsOpt = Annotated[
    bool, Opt("--trades-to-ohlcv", help="Build the bars from public trades (REST fills gaps).")
]
DurationOpt = Annotated[float | None, Opt("--duration", help="Stop after this many seconds.")]
FormatOpt = Annotated[str, Opt("--format", help="sqlite, csv, parquet, feather or lake.")]
OutOpt = Annotated[Path | None, Opt("--out", help="Output file (not for --format lake).")]
FlushOpt = Annotated[int, Opt("--flush", help="Make rows durable every N records.")]
BaseOpt = Annotated[str | None, Opt("--base-url", help="REST root: testnet, mirror, emulator.")]
WsOpt = Annotated[str | None, Opt("--ws-url", help="WebSocket root (default: from --base-url).")]
StallOpt = Annotated[
    float | None, Opt("--stall-timeout", help="Replace a socket silent this long, s.")
]


def register(app: typer.Typer) -> None:
    app.command(name="stream", help=stream.__doc__)(stream)


def stream(
    exchange: Annotated[str, Opt("--exchange", help="ccxt.pro id: binance, okx, hyperliquid…")],
    symbol: Annotated[str | None, Opt("--symbol", help="Unified symbol, e.g. BTC/USDT.")] = None,
    symbols: SymbolsOpt = None,
    market: Annotated[str, Opt("--market", help="spot or swap.")] = "spot",
    timeframe: Annotated[str, Opt("--timeframe", help="Bar size for ohlcv.")] = "1m",
    kind: KindOpt = "ohlcv",
    trades_to_ohlcv: ToBarsOpt = False,
    duration: DurationOpt = None,
    format_: FormatOpt = "sqlite",
    out_path: OutOpt = None,
    table: Annotated[str | None, Opt("--table", help="SQLite table name.")] = None,
    flush: FlushOpt = 1,
    base_url: BaseOpt = None,
    ws_url: WsOpt = None,
    lake: LakeOpt = None,
    depth: Annotated[int, Opt("--depth", help="Order-book levels per snapshot.")] = 10,
    interval: Annotated[float, Opt("--interval", help="Seconds between snapshots.")] = 1.0,
    stall_timeout: StallOpt = None,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No live view.")] = False,
) -> None:
    """Stream closed bars (or trades, tickers, book snapshots) over WebSockets into a sink;
    reconnects forever and back-fills missed bars from REST. Ctrl+C flushes and stops."""
    from barlake.lake.store import resolve_lake
    from barlake.stream.model import StreamConfig
    from barlake.stream.runner import run_stream

    lake = resolve_lake(lake) if format_ == "lake" else lake
    names = tuple(s.strip() for s in f"{symbol or ''},{symbols or ''}".split(",") if s.strip())
    options = {} if stall_timeout is None else {"stall_s": stall_timeout}
    config = StreamConfig(
        exchange, names, kind, market, timeframe, trades_to_ohlcv, duration, format_,
        out_path, table, flush, base_url, ws_url, lake, depth, interval, options=options,
    )  # fmt: skip
    view = LiveView(config, enabled=not quiet and sys.stdout.isatty())
    with view, stop_on_interrupt() as stop:
        metrics = run_stream(config, stop=stop, on_update=view.update)
    out.print(summary(metrics), highlight=False)


@contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """Ctrl+C (and SIGTERM) set an event the stream polls: it flushes and returns, exit 0."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in handlers:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def summary(metrics: StreamMetrics) -> str:
    line = (
        f"messages {metrics.messages}  bars {metrics.bars}  trades {metrics.trades}  "
        f"snapshots {metrics.snapshots}  reconnects {metrics.reconnects}  "
        f"backfilled bars {metrics.backfilled_bars}  max latency {metrics.max_latency_ms:.1f} ms"
    )
    errors = (
        f"\nerrors: {len(metrics.errors)} (last: {metrics.errors[-1]})" if metrics.errors else ""
    )
    return line + errors


class LiveView:
    """The forming bar of each symbol and the running counts (terminal only, ≤ 4 redraws/s)."""

    def __init__(self, config: StreamConfig, *, enabled: bool) -> None:
        self.config = config
        self.live = Live(console=out, auto_refresh=False) if enabled else None
        self.rows: dict[str, str] = {}
        self.drawn = 0.0

    def __enter__(self) -> LiveView:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def update(self, update: StreamUpdate) -> None:
        from barlake.dates import fmt_ms

        if self.live is None:
            return
        if update.bar is not None and update.symbol is not None:
            bar, state = update.bar, "forming" if update.kind == "forming" else "stored"
            self.rows[update.symbol] = (
                f"{fmt_ms(bar.timestamp_ms)}  o {bar.open} h {bar.high} l {bar.low} "
                f"c {bar.close} v {bar.volume}  ({state})"
            )
        now = time.monotonic()
        if now - self.drawn >= 0.25:
            self.drawn = now
            self.live.update(self._table(update.metrics), refresh=True)

    def _table(self, metrics: StreamMetrics) -> Table:
        table = Table(title=f"{self.config.exchange} {self.config.kind}", show_header=False)
        for name, row in sorted(self.rows.items()):
            table.add_row(name, row)
        table.add_row("", summary(metrics))
        return table
