"""Research commands: `indicators` (enrich one series to Parquet) and `scan` (rank a universe)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from barlake.cli.options import EndOpt, LakeOpt, StartOpt, console

if TYPE_CHECKING:
    from barlake.scan import ScanResult

out = console()


def register(app: typer.Typer) -> None:
    for command in (indicators, scan, analyze):
        app.command(name=command.__name__, help=command.__doc__)(command)


def indicators(
    source: str,
    instrument: str,
    timeframe: str,
    start: StartOpt = None,
    end: EndOpt = None,
    spec: Annotated[
        Path | None, typer.Option(help="YAML list of indicators (default: the full set).")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Parquet file (default: <lake>/exports/...).")
    ] = None,
    lake: LakeOpt = None,
) -> None:
    """Add indicator columns to a series and write <instrument>_<tf>_ta.parquet (zstd)."""
    from barlake.indicators.export import export_indicators

    result = export_indicators(
        lake, source, instrument, timeframe, start=start, end=end, spec=spec, out=out_file
    )
    out.print(f"wrote {result.rows} bars × {len(result.columns)} columns to {result.path}")


def scan(
    universe: Annotated[str, typer.Option(help="Instruments file, or a source in the lake.")],
    timeframe: Annotated[str, typer.Option(help="Bar size to scan.")] = "1h",
    filter_: Annotated[
        str | None, typer.Option("--filter", help='e.g. "rsi14 > 35 and macd > 0".')
    ] = None,
    score: Annotated[str, typer.Option(help="Ranking expression, or 'default'.")] = "default",
    top: Annotated[int, typer.Option(help="Rows to show.", min=1)] = 10,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="CSV of every instrument that passed.")
    ] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Rank every instrument of a universe by a score on its latest bar, after a filter."""
    from barlake.scan import scan as run_scan

    result = run_scan(
        lake, universe, timeframe=timeframe, filter=filter_, score=score, start=start, end=end
    )
    _print_scan(result, top)
    if out_file is not None:
        result.ranked.to_csv(out_file, index=False)
        out.print(f"wrote {len(result.ranked)} rows to {out_file}")


def _print_scan(result: ScanResult, top: int) -> None:
    """Ranked table, then skipped instruments with their reasons (never silently dropped)."""
    ranked = result.ranked
    table = Table(*(str(c) for c in ranked.columns), title="scan")
    for row in ranked.head(top).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    out.print(table if len(ranked) else "no instrument passed the filter")
    failed, skipped = result.failed, result.skipped
    out.print(
        f"{len(ranked)} passed, {failed} filtered out, {len(skipped)} skipped "
        f"in {result.seconds:.2f} s"
    )
    for item in skipped:
        out.print(f"[yellow]skipped {item.source}/{item.instrument}: {item.reason}[/yellow]")


def _cell(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def analyze(
    instrument: str,
    source: Annotated[str | None, typer.Option(help="Source (needed if several hold it).")] = None,
    timeframe: Annotated[str, typer.Option(help="Bar size.")] = "1h",
    days: Annotated[int, typer.Option(help="Days of history to keep in the output.")] = 30,
    sync: Annotated[bool, typer.Option("--sync", help="Sync this instrument first.")] = False,
    config: Annotated[Path, typer.Option(help="Instruments file for --sync.")] = Path(
        "instruments.csv"
    ),
    lake: LakeOpt = None,
) -> None:
    """Full indicator set for one instrument: writes <instrument>_<tf>_analysis.parquet, prints a summary."""
    from barlake.analysis import analyze as run_analysis
    from barlake.analysis import sync_for_analysis
    from barlake.lake import Lake

    if sync:
        synced = sync_for_analysis(Lake(lake), config, instrument, source, timeframe, days)
        out.print(f"synced {synced.item.source}/{instrument}: {synced.bars} new 1m bars")
    result = run_analysis(Lake(lake), instrument, source=source, timeframe=timeframe, days=days)
    table = Table(f"{result.source}/{result.instrument} {result.timeframe}", "value")
    for name, value in result.summary.items():
        table.add_row(name, f"{value:,.6g}")
    for name, flag in result.flags.items():
        table.add_row(name, "[green]yes[/green]" if flag else "no")
    out.print(table)
    out.print(f"wrote {result.rows} bars to {result.path}")
