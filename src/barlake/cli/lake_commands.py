"""Lake commands: import, derive, export, ls, sql, verify, read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from barlake.cli.options import EndOpt, LakeOpt, StartOpt, console, progress_bar
from barlake.dates import fmt_ms
from barlake.lake import Lake

out = console()


def register(app: typer.Typer) -> None:
    for command in (import_, derive, export, ls, sql, verify, read):
        name = command.__name__.rstrip("_")
        app.command(name=name, help=command.__doc__)(command)


def import_(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet, Feather or MT5 export.")],
    source: Annotated[str, typer.Option(help="Source name in the lake, e.g. binance.")],
    instrument: Annotated[str, typer.Option(help="Instrument name, e.g. BTCUSDT.")],
    timeframe: Annotated[str, typer.Option(help="Bar size of the file.")] = "1m",
    tz: Annotated[str, typer.Option(help="Time zone of naive times in the file.")] = "UTC",
    lake: LakeOpt = None,
) -> None:
    """Import a bar file into the lake (its span is recorded as covered)."""
    from barlake.transfer import import_file

    result = import_file(Lake(lake), file, source, instrument, timeframe, tz)
    out.print(f"imported {result.rows} bars into {result.key} ({len(result.months)} month files)")
    _report_rejected(result.rejected, result.duplicates)


def derive(
    timeframes: Annotated[list[str], typer.Option("--timeframes", "-t", help="e.g. -t 5m 1h 4h")],
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Regex on instrument names.")] = None,
    offset: Annotated[str | None, typer.Option(help="Bucket offset, e.g. 17h (FX day).")] = None,
    rebuild: Annotated[bool, typer.Option(help="Recompute from scratch.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Derive longer timeframes from 1m (incremental; whole buckets only)."""
    from barlake.bars.derive import derive_all
    from barlake.timeframes import parse_offset

    with progress_bar("deriving") as (start, advance):
        results = derive_all(
            Lake(lake),
            timeframes,
            source=source,
            instrument=instrument,
            offset_ms=parse_offset(offset),
            rebuild=rebuild,
            on_start=start,
            on_done=advance,
        )
    for r in results:
        out.print(
            f"{r.key}: {r.bars} bars from {r.months_recomputed} changed month(s), "
            f"{r.skipped_months} unchanged"
        )


def export(
    source: str,
    instrument: str,
    timeframe: str,
    fmt: Annotated[str, typer.Option("--format", help="csv|parquet|feather|sqlite|backtrader")],
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")],
    start: StartOpt = None,
    end: EndOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Export one series range to a file."""
    from barlake.transfer import export_series

    path, rows = export_series(Lake(lake), source, instrument, timeframe, fmt, out_path, start, end)
    out.print(f"wrote {rows} bars to {path}")


def ls(lake: LakeOpt = None) -> None:
    """List the series in the lake: first and last bar, rows, gaps."""
    from barlake.lake.catalog import summarize

    store = Lake(lake)
    table = Table("source", "instrument", "timeframe", "first", "last", "rows", "gaps")
    for key in store.series():
        s = summarize(store, key)
        table.add_row(
            key.source,
            key.instrument,
            key.timeframe,
            fmt_ms(s.first),
            fmt_ms(s.last),
            f"{s.rows:,}",
            str(s.gaps),
        )
    out.print(table if table.row_count else f"the lake at {store.root} is empty")


def sql(
    query: Annotated[str, typer.Argument(help="SQL over the view `ohlcv`.")], lake: LakeOpt = None
) -> None:
    """Run DuckDB SQL over the whole lake (view `ohlcv` with source, instrument, timeframe)."""
    from barlake.lake.catalog import sql as run_sql

    names, rows = run_sql(Lake(lake), query)
    table = Table(*names)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    out.print(table)


def verify(
    repair: Annotated[
        bool, typer.Option(help="Quarantine broken files, drop their coverage.")
    ] = False,
    lake: LakeOpt = None,
) -> None:
    """Check every lake file; non-zero exit when anything is wrong."""
    from barlake.lake.verify import verify as run_verify

    problems = run_verify(Lake(lake), repair=repair)
    for problem in problems:
        out.print(str(problem), highlight=False, soft_wrap=True)
    if problems and not (repair and all(p.repaired for p in problems)):
        raise typer.Exit(1)
    out.print("lake verified: no problems" if not problems else "all problems repaired")


def read(
    source: str,
    instrument: str,
    timeframe: str,
    start: StartOpt = None,
    end: EndOpt = None,
    rows: Annotated[int, typer.Option(help="Rows to show from each end.")] = 5,
    lake: LakeOpt = None,
) -> None:
    """Show the first and last bars of a series range."""
    frame = Lake(lake).read(source, instrument, timeframe, start, end)
    out.print(f"{len(frame)} bars")
    if len(frame) <= 2 * rows:
        out.print(frame.to_string())
    else:
        out.print(
            f"{frame.head(rows).to_string()}\n...\n{frame.tail(rows).to_string(header=False)}"
        )


def _report_rejected(rejected: dict[str, int], duplicates: int) -> None:
    for reason, count in rejected.items():
        out.print(f"[yellow]rejected {count} bar(s): {reason}[/yellow]")
    if duplicates:
        out.print(f"dropped {duplicates} duplicate timestamp(s) (last one kept)")
