"""How a sync looks in the terminal: live progress, the plan, the summary, JSON logs for cron."""

from __future__ import annotations

import json
import logging
import sys
import threading

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from barlake.dates import fmt_ms
from barlake.instruments import Instrument
from barlake.lake import intervals as iv
from barlake.sources.base import Page
from barlake.sync import InstrumentPlan, InstrumentResult
from barlake.sync import Progress as SyncProgress
from barlake.timeframes import MINUTE_MS

MAX_RANGES = 5


class SpeedColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} bars/s", style="cyan")


class LiveProgress(SyncProgress):
    """One bar per running instrument plus the overall bar (bars stored, bars/s, ETA)."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>9,.0f}/{task.total:,.0f} bars"),
            SpeedColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.overall = self.bar.add_task("[bold]all instruments", total=0)
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> LiveProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def started(self, item: Instrument, plan: InstrumentPlan) -> None:
        with self.lock:
            name = f"{item.source}/{item.instrument}"
            self.tasks[item.key] = self.bar.add_task(name, total=max(plan.missing_bars, 1))
            total = self.bar.tasks[self.overall].total or 0
            self.bar.update(self.overall, total=total + plan.missing_bars)

    def advanced(self, item: Instrument, page: Page) -> None:
        minutes = (page.answered[1] - page.answered[0]) // MINUTE_MS
        with self.lock:
            self.bar.advance(self.tasks[item.key], minutes)
            self.bar.advance(self.overall, minutes)

    def finished(self, result: InstrumentResult) -> None:
        with self.lock:
            task = self.tasks.pop(result.item.key, None)
            if task is not None:
                self.bar.remove_task(task)


def plan_table(plans: list[InstrumentPlan]) -> Table:
    table = Table(title="sync plan (1m; nothing is downloaded)", title_justify="left")
    for name in ("instrument", "source", "window", "stored", "missing", "known-empty", "note"):
        table.add_column(name, justify="right" if name in ("stored", "known-empty") else "left")
    for plan in plans:
        start = "from listing" if plan.start is None else fmt_ms(plan.start)
        note = f"[red]{plan.error}[/red]" if plan.error else ""
        if plan.beyond_retention:
            bars = iv.total(plan.beyond_retention) // MINUTE_MS
            note = f"{bars:,} bars beyond venue retention (not fetched)"
        table.add_row(
            plan.item.instrument,
            plan.item.source,
            f"{start} → {fmt_ms(plan.end)}",
            f"{plan.present_minutes:,}",
            _ranges(plan.missing) if plan.start is not None else "everything",
            f"{iv.total(plan.known_empty) // MINUTE_MS:,}",
            note,
        )
    return table


def _ranges(spans: iv.Intervals) -> str:
    if not spans:
        return "nothing"
    shown = [f"{fmt_ms(a)} → {fmt_ms(b)} ({(b - a) // MINUTE_MS:,} bars)" for a, b in spans]
    more = len(shown) - MAX_RANGES
    listed = "\n".join(shown[:MAX_RANGES])
    return listed + (f"\n… {more} more ranges" if more > 0 else "")


def summary_table(results: list[InstrumentResult]) -> Table:
    table = Table(title="sync summary", title_justify="left")
    for name in ("instrument", "source", "status", "bars added", "via", "requests", "seconds"):
        table.add_column(
            name, justify="right" if name in ("bars added", "requests", "seconds") else "left"
        )
    for r in results:
        status = "[green]ok[/green]" if r.ok else f"[red]failed[/red]: {r.error}"
        if r.ok and r.beyond_retention:
            status += " (older bars beyond venue retention)"
        if r.ok and r.still_missing:
            status += f" ({r.still_missing:,} minutes still missing; the next sync asks again)"
        via = ", ".join(f"{k} {v:,}" for k, v in sorted(r.via.items())) or "-"
        table.add_row(
            r.item.instrument, r.item.source, status, f"{r.bars:,}", via,
            str(r.requests), f"{r.seconds:.1f}",
        )  # fmt: skip
    return table


def one_line(results: list[InstrumentResult], file_errors: int) -> str:
    failed = [r.item.instrument for r in results if not r.ok]
    text = f"synced {len(results) - len(failed)}/{len(results)} instruments, "
    text += f"{sum(r.bars for r in results):,} bars added"
    if failed:
        text += f"; failed: {', '.join(failed)}"
    if file_errors:
        text += f"; {file_errors} bad row(s) in the instruments file"
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
             "message": record.getMessage()}
        )  # fmt: skip


def use_json_logs() -> None:
    """Every log line on stderr as one JSON object (for cron and log shippers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
