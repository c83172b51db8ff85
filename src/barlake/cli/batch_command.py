"""`barlake batch`: run a jobs file (historical downloads and live streams) with a live table."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live
from rich.table import Table

from barlake.cli.options import LakeOpt, console

if TYPE_CHECKING:
    from barlake.stream.batch import BatchReport, TaskStatus
    from barlake.stream.batch_schema import Batch, Task

out = console()
err = console(stderr=True)
STYLES = {"ok": "green", "failed": "red", "stopped": "yellow", "running": "cyan", "waiting": "dim"}


def register(app: typer.Typer) -> None:
    app.command(name="batch", help=batch.__doc__)(batch)


def batch(
    file: Annotated[Path, typer.Argument(help="Jobs file: defaults + tasks (examples/jobs.yaml).")],
    tasks: Annotated[
        str | None,
        typer.Option("--tasks", "--taches", help="Only these tasks, comma-separated."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check the file and show the order; run nothing.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live table.")] = False,
    lake: LakeOpt = None,
) -> None:
    """Run a jobs file's tasks at once (rest downloads, live streams); exit 0 only if all succeed."""
    from barlake.stream.batch_schema import load_batch

    only = None if tasks is None else [name.strip() for name in tasks.split(",") if name.strip()]
    jobs = load_batch(file, only=only, lake=lake)
    if check:
        out.print(order_table(jobs))
        return
    raise typer.Exit(run_live(jobs, live=not quiet and err.is_terminal))


def run_live(jobs: Batch, *, live: bool) -> int:
    """Run with the live table on stderr (Ctrl+C or SIGTERM stop every task), then the summary."""
    from barlake.stream.batch import run_batch

    stop = threading.Event()
    shown = {task.name: task for task in jobs.tasks}
    statuses: dict[str, TaskStatus] = {}

    def table() -> Table:
        return status_table(list(statuses.values()), "batch", shown)

    view = Live(console=err, get_renderable=table, transient=True) if live else nullcontext()
    with _stop_on_sigterm(stop), view:
        report = run_batch(jobs, stop=stop, progress=_Collect(statuses))
    out.print(status_table(report.statuses, "batch summary", shown))
    out.print(one_line(report), highlight=False)
    return report.exit_code


class _Collect:
    """Keeps the statuses the tasks report (in file order), for the live table to draw."""

    def __init__(self, statuses: dict[str, TaskStatus]) -> None:
        self.statuses = statuses

    def changed(self, status: TaskStatus) -> None:
        self.statuses.setdefault(status.name, status)


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """A scheduler's SIGTERM stops the batch like Ctrl+C does (only the main thread may listen)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def status_table(statuses: list[TaskStatus], title: str, tasks: dict[str, Task]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("task", "mode", "status", "rows", "seconds", "detail"):
        table.add_column(name, justify="right" if name in ("rows", "seconds") else "left")
    for s in statuses:
        style = STYLES.get(s.state, "")
        detail = s.detail or (f"waits for {', '.join(s.after)}" if s.state == "waiting" else "")
        table.add_row(
            s.name, s.mode, f"[{style}]{s.state}[/{style}]", f"{s.rows:,}",
            f"{s.seconds:.1f}", detail or describe(tasks[s.name]),
        )  # fmt: skip
    return table


def one_line(report: BatchReport) -> str:
    failed = [s.name for s in report.statuses if s.state == "failed"]
    ok = sum(s.state == "ok" for s in report.statuses)
    text = f"{ok}/{len(report.statuses)} tasks ok"
    if failed:
        text += f"; failed: {', '.join(failed)}"
    if report.interrupted:
        text += "; stopped before the end (run again to finish the downloads)"
    return text


def order_table(jobs: Batch) -> Table:
    """What `--check` shows: each task, what it does, and what it waits for."""
    table = Table(title=f"{jobs.path}: {len(jobs.tasks)} tasks, nothing run", title_justify="left")
    for name in ("task", "mode", "what", "waits for"):
        table.add_column(name)
    for task in jobs.tasks:
        after = ", ".join(jobs.after[task.name]) or "-"
        table.add_row(task.name, task.mode, describe(task), after)
    return table


def describe(task: Task) -> str:
    from barlake.dates import fmt_ms
    from barlake.stream.batch_schema import RestTask

    if isinstance(task, RestTask):
        names = ", ".join(item.instrument for item in task.items)
        span = f"{fmt_ms(task.start_ms)} → {fmt_ms(task.end_ms) if task.end_ms else 'now'}"
        into = str(task.out) if task.out is not None else "the lake"
        return f"{task.items[0].source} {names} {task.timeframe} {span} to {into}"
    c = task.config
    length = f"{c.duration_s:g} s" if c.duration_s else "until stopped"
    where = str(c.out) if c.format != "lake" else "the lake"
    return f"{c.exchange} {c.market} {c.kind} {', '.join(c.symbols)} {length} to {where}"
