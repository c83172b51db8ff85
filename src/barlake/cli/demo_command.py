"""`barlake demo`: the whole pipeline, offline — file import, then a sync from the emulator."""

from __future__ import annotations

import typer

from barlake.cli.options import LakeOpt, console

out = console()

NEXT_STEPS = """[bold]Try next[/bold]
  barlake ls{lake}
  barlake app{lake}   # charts, coverage and scans in the browser (needs the app extra)
  barlake sql "SELECT source, instrument, timeframe, count(*) FROM ohlcv GROUP BY ALL"{lake}
  barlake emulate   # keep the emulator running, then `barlake sync --config <file>` against it
  python -c "import barlake; print(barlake.read('binance', 'BTCUSDT', '1h'{py}).tail())"
"""


def register(app: typer.Typer) -> None:
    app.command(name="demo", help=demo.__doc__)(demo)


def demo(
    lake: LakeOpt = None,
    days: int = typer.Option(3, help="Days of 1m to sync from the emulator (0: import only)."),
) -> None:
    """Import the bundled sample, then sync a few days from the loopback emulator (offline)."""
    from barlake.cli.lake_commands import ls
    from barlake.cli.sync_view import LiveProgress, plan_table, summary_table
    from barlake.demo import run_demo
    from barlake.lake import Lake

    with LiveProgress(console(stderr=True), enabled=True) as progress:
        report = run_demo(Lake(lake), progress, sync_days=days)
    out.print(f"[bold]1.[/bold] imported {report.imported.rows} sample 1m bars into {report.lake}/")
    out.print("   derived " + ", ".join(f"{r.key.timeframe}: {r.bars}" for r in report.derived))
    if report.plans is not None and report.synced is not None:
        out.print(f"[bold]2.[/bold] synced from the emulator with {report.instruments_file}:")
        out.print(plan_table(report.plans), summary_table(report.synced))
    out.print("[bold]3.[/bold] the lake now holds:")
    ls(lake=report.lake)
    flag = f" --lake {report.lake}" if lake else ""
    py = f", lake='{report.lake}'" if lake else ""
    out.print(NEXT_STEPS.format(lake=flag, py=py), highlight=False)
