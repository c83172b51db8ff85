"""`barlake sync`: keep the lake's 1m bars (and derived timeframes) up to date."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from barlake.cli.options import EndOpt, LakeOpt, StartOpt, console

out = console()
err = console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command(name="sync", help=sync.__doc__)(sync)


@dataclass
class Flags:
    quiet: bool
    log_json: bool


def sync(
    config: Annotated[Path, typer.Option(help="Instruments file.")] = Path("instruments.csv"),
    start: StartOpt = None,
    end: EndOpt = None,
    only: Annotated[str | None, typer.Option(help="Only one backend: ccxt or dukascopy.")] = None,
    filter_: Annotated[
        str | None, typer.Option("--filter", help="Regex on instrument names (re.search).")
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="Show what is missing; download nothing.")
    ] = False,
    derive: Annotated[
        list[str] | None, typer.Option("--derive", help="Derived timeframes [default: 5m 1h 4h].")
    ] = None,
    derive_only: Annotated[
        bool, typer.Option("--derive-only", help="Only rebuild derived timeframes (no network).")
    ] = False,
    sleep_ms: Annotated[int, typer.Option(help="Pause before every request, ms.")] = 0,
    sleep_between: Annotated[float, typer.Option(help="Pause between instruments, s.")] = 0.0,
    ccxt_workers: Annotated[int, typer.Option(help="Parallel ccxt instruments.")] = 2,
    duk_workers: Annotated[int, typer.Option(help="Parallel Dukascopy instruments.")] = 2,
    fail_streak: Annotated[
        int, typer.Option(help="Give an instrument up after N failures in a row.")
    ] = 5,
    timeout: Annotated[float, typer.Option(help="HTTP timeout per request, s.")] = 10.0,
    no_archive: Annotated[bool, typer.Option("--no-archive", help="Binance: REST only.")] = False,
    keep_flats: Annotated[
        bool, typer.Option("--keep-flats", help="Dukascopy: keep flat zero-volume candles.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or tables.")] = False,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Logs as JSON lines on stderr.")
    ] = False,
    lake: LakeOpt = None,
) -> None:
    """Fetch missing 1m bars for every instrument in the file, then derive 5m/1h/4h."""
    from barlake.cli.sync_run import Request, run

    request = Request(
        config, start, end, only, filter_, tuple(derive or ("5m", "1h", "4h")), sleep_ms,
        sleep_between, {"ccxt": ccxt_workers, "dukascopy": duk_workers}, fail_streak, timeout,
        not no_archive, lake, keep_flats,
    )  # fmt: skip
    code = run(request, plan=plan, only_derive=derive_only, flags=Flags(quiet, log_json))
    raise typer.Exit(code)
