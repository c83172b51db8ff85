"""`barlake optimize`: run, join, stop, resume, report and manifest an Optuna optimisation.

The run itself is `barlake optimize --source S --instrument I --timeframe 5m [...]`; the other
verbs are subcommands taking the run folder.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from barlake.cli.options import EndOpt, LakeOpt, StartOpt, console
from barlake.errors import ConfigError

if TYPE_CHECKING:
    from barlake.optimize.report import Report
    from barlake.optimize.session import Outcome

out = console()
err = console(stderr=True)

RunDirArg = Annotated[
    Path, typer.Argument(help="The run folder (runs/<run_id>_<instrument>_<tf>).")
]
StorageOpt = Annotated[
    str | None,
    typer.Option(
        help="Database URL (postgresql://...) when the run uses one; needed again "
        "when it holds a password (context.json never keeps it)."
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option(help="Worker processes (default: the run's).", min=1)
]
BudgetOpt = Annotated[
    float | None, typer.Option(help="Seconds for this session (default: the run's).")
]


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Optuna search over strategies: train return vs drawdown, judged on a held-out "
        "test part.",
        no_args_is_help=False,
    )
    group.callback(invoke_without_command=True)(optimize)
    for command in (join, stop, resume, report, manifest):
        group.command(name=command.__name__, help=command.__doc__)(command)
    app.add_typer(group, name="optimize")


def optimize(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Source in the lake.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Instrument in the lake.")] = None,
    timeframe: Annotated[str | None, typer.Option(help="Bar size, e.g. 5m.")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated strategies.", show_default="all")
    ] = None,
    max_trials: Annotated[int, typer.Option(help="Trials per strategy (and fold).")] = 500,
    time_budget: Annotated[float, typer.Option(help="Seconds before the run stops itself.")] = 600,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    split: Annotated[float, typer.Option(help="Train share of the bars (chronological).")] = 0.75,
    walk_forward: Annotated[int, typer.Option(help="Walk-forward folds (0: one split).")] = 0,
    dd_max: Annotated[float, typer.Option(help="Champion's max test drawdown, %.")] = 20.0,
    fees_bps: Annotated[float, typer.Option(help="Fee per fill, basis points.")] = 4.5,
    slippage_bps: Annotated[float, typer.Option(help="Slippage per fill, basis points.")] = 1.0,
    modes: Annotated[
        str | None,
        typer.Option(help="Comma-separated position modes to search.", show_default="all"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Sampler seed.")] = 42,
    sampler: Annotated[str, typer.Option(help="nsga2 (default) or tpe.")] = "nsga2",
    population: Annotated[
        int | None, typer.Option(help="Trials per generation (default 50 NSGA-II, 8 TPE).")
    ] = None,
    min_trades: Annotated[int, typer.Option(help="Train trades a trial needs.")] = 10,
    storage: Annotated[str | None, typer.Option(help="postgresql://... to share the run.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    run_id: Annotated[
        str | None, typer.Option(help="Name the run (default: from the time).")
    ] = None,
    lake: LakeOpt = None,
) -> None:
    """Search each strategy's parameters (plus TP/SL and position mode) for the best train
    return vs drawdown; judge the Pareto front on the test part; pick a champion."""
    if ctx.invoked_subcommand is not None:
        return
    from barlake.optimize import OptimizeConfig
    from barlake.optimize import start as start_run

    if source is None or instrument is None or timeframe is None:
        raise ConfigError("barlake optimize needs --source, --instrument and --timeframe")
    # comma-separated text as given (the config splits it); left out, the config's default: all
    names: dict[str, Any] = {"strategies": strategies, "modes": modes}
    config = OptimizeConfig(
        source,
        instrument,
        timeframe,
        start,
        end,
        **{k: v for k, v in names.items() if v is not None},
        max_trials=max_trials,
        time_budget=time_budget,
        workers=workers,
        split=split,
        walk_forward=walk_forward,
        dd_max=dd_max,
        fees_bps=fees_bps,
        slippage_bps=slippage_bps,
        seed=seed,
        sampler=sampler,
        population=population,
        min_trades=min_trades,
        storage=storage,
    )
    with _view() as view:
        outcome = start_run(config, lake=lake, runs_dir=runs_dir, run_id=run_id, on_status=view)
    _print_outcome(outcome)


def join(
    run_dir: RunDirArg,
    workers: WorkersOpt = None,
    time_budget: BudgetOpt = None,
    storage: StorageOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Add workers (on this or another machine) to a running run's current session."""
    from barlake.optimize import join as join_run

    with _view() as view:
        outcome = join_run(
            run_dir,
            workers=workers,
            time_budget=time_budget,
            lake=lake,
            storage=storage,
            on_status=view,
        )
    _print_outcome(outcome)


def stop(run_dir: RunDirArg, storage: StorageOpt = None) -> None:
    """Ask every worker to finish its current trial and exit (resume continues the run)."""
    from barlake.optimize import stop as stop_run

    stop_run(run_dir, storage=storage)
    out.print(f"stop requested for {run_dir}", highlight=False)


def resume(
    run_dir: RunDirArg,
    workers: WorkersOpt = None,
    time_budget: BudgetOpt = None,
    storage: StorageOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Continue a stopped, budget-limited or killed run; finished trials are kept."""
    from barlake.optimize import resume as resume_run

    with _view() as view:
        outcome = resume_run(
            run_dir,
            workers=workers,
            time_budget=time_budget,
            lake=lake,
            storage=storage,
            on_status=view,
        )
    _print_outcome(outcome)


def report(run_dir: RunDirArg, storage: StorageOpt = None, lake: LakeOpt = None) -> None:
    """Rebuild report.json and the CSVs from the storage (works on a killed run too)."""
    from barlake.optimize import build_report

    _print_report(build_report(run_dir, lake=lake, storage=storage))


def manifest(
    run_dir: RunDirArg,
    out_file: Annotated[Path, typer.Option("--out", help="Manifest JSON to write.")],
    fold: Annotated[int | None, typer.Option(help="Walk-forward fold (default: the last).")] = None,
    storage: StorageOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Write the champion's paper manifest (replay it with `barlake backtest --manifest`)."""
    from barlake.optimize import write_manifest

    path = write_manifest(run_dir, out_file, fold=fold, lake=lake, storage=storage)
    out.print(f"wrote {path}", highlight=False)


class _view:
    """A live table of per-study progress and best-so-far train Pareto points, on a terminal
    only; the callable receives each status.json snapshot."""

    def __enter__(self) -> _view:
        self.live = (
            Live(console=err, refresh_per_second=4, transient=True) if sys.stderr.isatty() else None
        )
        if self.live is not None:
            self.live.__enter__()
        return self

    def __call__(self, status: dict[str, Any]) -> None:
        if self.live is not None:
            self.live.update(_status_table(status))

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)


def _status_table(status: dict[str, Any]) -> Table:
    trials = status["trials"]
    workers = status["workers"]
    title = (
        f"{status['run_id']} · {status['state']} · {trials['done']}/{trials['target']} trials · "
        f"{workers['alive']}/{workers['started']} workers · {status['elapsed_s']:.0f}s"
    )
    table = Table(
        "study", "done", "feasible", "best train points (return % / max DD %)", title=title
    )
    folds = len({study["fold"] for study in status["studies"]}) > 1
    for study in status["studies"]:
        points = "  ".join(
            f"#{p['number']} {p['train_return_pct']:+.2f}/{p['train_max_dd_pct']:.2f}"
            for p in study["best"][:3]
        )
        name = study["strategy"] + (f" fold {study['fold']}" if folds else "")
        table.add_row(name, f"{study['done']}/{study['target']}", str(study["feasible"]), points)
    return table


def _print_outcome(outcome: Outcome) -> None:
    out.print(f"run {outcome.run_dir}: {outcome.state}", highlight=False)
    if outcome.failed_workers:
        err.print(f"{outcome.failed_workers} worker(s) failed: see progress.jsonl", highlight=False)
    if outcome.state in ("stopped", "time_budget", "partial"):
        out.print(f"continue with: barlake optimize resume {outcome.run_dir}", highlight=False)
    if outcome.report is not None:
        _print_report(outcome.report)


def _print_report(result: Report) -> None:
    summary = result.summary
    table = Table("study", "trials", "feasible", "front", title=f"report ({summary['state']})")
    for study in summary["studies"]:
        table.add_row(
            study["study"],
            f"{study['done']}/{study['target']}",
            str(study["feasible"]),
            str(study["front"]),
        )
    out.print(table)
    out.print(summary["message"], highlight=False, soft_wrap=True)
    out.print(
        f"files: {result.run_dir}/report.json trials.csv pareto.csv champion.csv", highlight=False
    )
