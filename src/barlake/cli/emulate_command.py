"""`barlake emulate`: serve the loopback Binance / archive / Hyperliquid / Dukascopy emulator
(REST and WebSocket streams) until Ctrl+C."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from barlake.cli.options import console
from barlake.errors import ConfigError

if TYPE_CHECKING:
    from barlake.emulator import Emulator

out = console()

PortOpt = Annotated[
    int,
    typer.Option(
        "--port",
        help="Binance REST port; archive on N+1, Hyperliquid on N+2, Dukascopy on N+3 (0: free).",
    ),
]
SymbolsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--symbols", help="Spot symbols to list (repeat or comma-separate); default a few."
    ),
]
FaultsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--faults",
        help="Faults, e.g. 500/7, binance:429=2x1, archive:checksum, hyperliquid:slow=15/10, "
        "binance_ws:drop=30, hyperliquid_ws:stall=60.",
    ),
]
SpeedOpt = Annotated[
    float,
    typer.Option(
        "--speed", help="Market clock speed-up from now (60: a 1m candle closes every second)."
    ),
]


def register(app: typer.Typer) -> None:
    app.command(name="emulate", help=emulate.__doc__)(emulate)


def emulate(
    port: PortOpt = 0, symbols: SymbolsOpt = None, faults: FaultsOpt = None, speed: SpeedOpt = 1.0
) -> None:
    """Serve synthetic Binance REST + streams, the Binance archive, Hyperliquid and Dukascopy on 127.0.0.1."""
    from barlake.emulator import Accelerated, Emulator

    names = [s for item in symbols or [] for s in item.split(",") if s.strip()] or None
    try:
        clock = Accelerated(speed=speed)
        emulator = Emulator(port=port, symbols=names, faults=faults, clock=clock)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    with emulator as emu:
        # Ctrl+C may come as soon as the URLs are out, so the whole serve phase is guarded.
        try:
            _announce(emu)
            threading.Event().wait()
        except KeyboardInterrupt:
            out.print("stopped")


def _announce(emu: Emulator) -> None:
    out.print(f"binance      {emu.base_url}   (/api/v3, /fapi/v1)", highlight=False)
    out.print(
        f"archive      {emu.archive_url}   (/data/spot/..., /data/futures/um/...)",
        highlight=False,
    )
    out.print(f"hyperliquid  {emu.hyperliquid_url}   (POST /info)", highlight=False)
    out.print(
        f"symbols      {' '.join(emu.books.spot.symbols())}   — Ctrl+C stops", highlight=False
    )
    out.print(
        f"dukascopy    {emu.dukascopy_url}   (/datafeed/... bi5, /v1/... JSON: "
        f"{' '.join(emu.dukascopy_book.markets)})",
        highlight=False,
    )
    out.print(
        f"binance-ws   {emu.binance_ws_url}   (ccxt.pro urls.api.ws.spot)",
        highlight=False,
    )
    out.print(f"hyperliquid-ws {emu.hyperliquid_ws_url}", highlight=False)
    sys.stdout.flush()
