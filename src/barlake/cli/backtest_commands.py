"""`barlake backtest`: one strategy (or a rules file) on one lake series; stats, last trades, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from barlake.cli.options import EndOpt, LakeOpt, StartOpt, console

if TYPE_CHECKING:
    from barlake.backtest.runner import BacktestRun

out = console()


def register(app: typer.Typer) -> None:
    app.command(name="backtest", help=backtest.__doc__)(backtest)


def backtest(
    strategy: Annotated[
        str | None,
        typer.Argument(
            help="ma_cross, rsi_reversion, bollinger_breakout, stochastic, range_breakout, or rules."
        ),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Source in the lake.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Instrument in the lake.")] = None,
    timeframe: Annotated[str, typer.Option(help="Bar size.")] = "1h",
    start: StartOpt = None,
    end: EndOpt = None,
    param: Annotated[
        list[str] | None, typer.Option(help="Strategy parameter NAME=VALUE (repeat).")
    ] = None,
    rules: Annotated[Path | None, typer.Option(help="Rules YAML (with STRATEGY `rules`).")] = None,
    fees_bps: Annotated[float, typer.Option(help="Fee per fill in basis points.")] = 4.5,
    slippage_bps: Annotated[float, typer.Option(help="Slippage per fill in basis points.")] = 0.0,
    tp: Annotated[float | None, typer.Option(help="Take profit, % from the fill price.")] = None,
    sl: Annotated[float | None, typer.Option(help="Stop loss, % from the fill price.")] = None,
    mode: Annotated[
        str, typer.Option(help="Position management: none, grid or martingale.")
    ] = "none",
    direction: Annotated[
        str | None, typer.Option(help="long, short or both (rules may set it).")
    ] = None,
    fill: Annotated[str, typer.Option(help="next_open (default) or close.")] = "next_open",
    size: Annotated[float, typer.Option(help="Fraction of equity per trade.")] = 1.0,
    report: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here.")
    ] = None,
    trades: Annotated[int, typer.Option(help="Last trades to print.", min=0)] = 10,
    manifest: Annotated[
        Path | None, typer.Option(help="Replay an optimizer champion manifest (JSON).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON only.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Backtest a strategy on one series (or replay a manifest): prints stats and last trades."""
    from barlake.backtest.runner import run_backtest
    from barlake.errors import ConfigError
    from barlake.optimize.manifest import replay_manifest, stats_json

    if manifest is not None:
        typer.echo(stats_json(replay_manifest(manifest, lake=lake)))
        return
    if strategy is None or source is None or instrument is None:
        raise ConfigError("give STRATEGY --source --instrument, or --manifest FILE")

    options = {
        "fees_bps": fees_bps,
        "slippage_bps": slippage_bps,
        "tp_pct": tp,
        "sl_pct": sl,
        "mode": mode,
        "fill": fill,
        "size": size,
    }
    if direction is not None:
        options["direction"] = direction
    run = run_backtest(
        lake,
        strategy,
        source=source,
        instrument=instrument,
        timeframe=timeframe,
        start=start,
        end=end,
        params=param,
        rules=rules,
        report=report,
        **options,
    )
    if as_json:
        typer.echo(stats_json(run.result.stats))
        return
    _print_run(run, trades)


def _print_run(run: BacktestRun, last: int) -> None:
    """Stats, then the last trades, then where the report went."""
    out.print(f"backtest {run.title}", highlight=False)
    stats = Table("stat", "value")
    for name, value in run.result.stats.items():
        stats.add_row(name, _cell(value))
    out.print(stats)
    shown = run.result.trades.tail(last)
    if last and len(shown):
        from barlake.backtest.result import TRADE_SHOWN

        columns = list(TRADE_SHOWN)
        table = Table(*columns, title=f"last {len(shown)} of {len(run.result.trades)} trades")
        for row in shown[columns].itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        out.print(table)
    elif not len(run.result.trades):
        out.print("no trades")
    if run.report is not None:
        out.print(f"wrote report to {run.report}")


def _cell(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)
