"""`barlake app`: the Streamlit app over a lake and a runs folder, on 127.0.0.1 by default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from barlake.cli.options import LakeOpt, console

err = console(stderr=True)

RunsOpt = Annotated[
    Path | None, typer.Option("--runs", help="Run folders (default: $BARLAKE_RUNS, else ./runs).")
]
PortOpt = Annotated[int, typer.Option("--port", help="Port to serve on.")]
HostOpt = Annotated[
    str, typer.Option("--host", help="Address to bind; 0.0.0.0 exposes it to your network.")
]
InstrumentsOpt = Annotated[
    Path | None, typer.Option("--instruments", help="instruments.csv the Data page syncs from.")
]


def register(app: typer.Typer) -> None:
    app.command(name="app", help=serve_app.__doc__)(serve_app)


def serve_app(
    lake: LakeOpt = None,
    runs: RunsOpt = None,
    port: PortOpt = 8501,
    host: HostOpt = "127.0.0.1",
    instruments: InstrumentsOpt = None,
) -> None:
    """Open the Streamlit app: Data, Scan, Backtest and Optimize pages (needs the app extra)."""
    from barlake.app.launch import check_installed, run_app

    check_installed()
    err.print(f"barlake app on http://{host}:{port} (Ctrl+C stops it)", highlight=False)
    code = run_app(lake, runs, host=host, port=port, instruments=instruments)
    if code:
        raise typer.Exit(code)
