"""`barlake demo`: the whole lake pipeline, offline, in a few seconds."""

from __future__ import annotations

import typer

from barlake.cli.options import LakeOpt, console

out = console()

NEXT_STEPS = """[bold]Try next[/bold]
  barlake ls{lake}
  barlake sql "SELECT timeframe, count(*) FROM ohlcv GROUP BY timeframe"{lake}
  python -c "import barlake; print(barlake.read('sample', 'BTCUSDT', '1h'{py}).tail())"
"""


def register(app: typer.Typer) -> None:
    app.command(name="demo", help=demo.__doc__)(demo)


def demo(lake: LakeOpt = None) -> None:
    """Import the bundled sample and derive 5m/1h/4h (offline, no network)."""
    from barlake.cli.lake_commands import ls
    from barlake.demo import run_demo
    from barlake.lake import Lake

    report = run_demo(Lake(lake))
    out.print(
        f"[bold]1.[/bold] imported {report.imported.rows} 1m bars into the lake at {report.lake}/"
    )
    for r in report.derived:
        out.print(f"[bold]2.[/bold] derived {r.key}: {r.bars} bars")
    out.print("[bold]3.[/bold] the lake now holds:")
    ls(lake=report.lake)
    flag = f" --lake {report.lake}" if lake else ""
    py = f", lake='{report.lake}'" if lake else ""
    out.print(NEXT_STEPS.format(lake=flag, py=py), highlight=False)
