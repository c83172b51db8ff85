"""A batch task in `mode: rest`: the sync brings [start, end) of each symbol into the lake (1m,
and the task's timeframe derived from it), then the range is exported when `out` names a file.

Nothing here downloads: it is the sync's planner, feeds and merge, so a rerun fetches only what
is missing, and a stopped task keeps every page it fetched (the sync stops after the current one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from barlake.errors import SourceError
from barlake.instruments import Instrument
from barlake.lake.store import Lake
from barlake.sources.base import Page
from barlake.sources.registry import FeedFactory
from barlake.sync import InstrumentPlan, InstrumentResult, Progress, SyncOptions, Window, sync
from barlake.sync.plan import BASE
from barlake.transfer import export_series

if TYPE_CHECKING:
    from barlake.stream.batch import TaskStatus
    from barlake.stream.batch_schema import RestTask


class _Status(Progress):
    """The sync's progress as the task's status line: bars fetched so far, symbol at work."""

    def __init__(self, status: TaskStatus, changed: Callable[[TaskStatus], None]) -> None:
        self.status, self.changed = status, changed
        self.lock = threading.Lock()

    def started(self, item: Instrument, plan: InstrumentPlan) -> None:
        with self.lock:
            self.status.detail = f"{item.instrument}: {plan.missing_bars:,} 1m bars to fetch"
        self.changed(self.status)

    def advanced(self, item: Instrument, page: Page) -> None:
        with self.lock:
            self.status.rows += page.bars.num_rows
        self.changed(self.status)

    def finished(self, result: InstrumentResult) -> None:
        self.changed(self.status)


def run_rest(
    task: RestTask,
    factory: FeedFactory,
    halt: threading.Event,
    status: TaskStatus,
    changed: Callable[[TaskStatus], None],
) -> None:
    """Sync, then export; raises SourceError naming every symbol that failed (after the others
    finished), DataError when an export range holds no bar."""
    lake = Lake(task.lake)
    derived = (task.timeframe,) if task.timeframe != BASE else ()  # canonical: 1m or longer
    # the sync's default workers per task; the factory's request budgets are shared by all tasks
    options = SyncOptions(Window(task.start_ms, task.end_ms), derived, factory=factory, stop=halt)
    results = sync(lake, list(task.items), options, _Status(status, changed))
    status.rows = sum(result.bars for result in results)
    errors = [result.error for result in results if result.error]
    if errors:
        raise SourceError("; ".join(errors))
    added = f"{status.rows:,} new 1m bars in {lake.root}"
    if task.out is None:
        status.detail = added
        return
    status.detail = f"exporting {task.timeframe}"
    changed(status)
    written = [_export(lake, task, item) for item in task.items]
    status.rows = sum(rows for _, rows in written)
    files = ", ".join(str(path) for path, _ in written)
    status.detail = f"{status.rows:,} {task.timeframe} rows to {files} ({added})"


def _export(lake: Lake, task: RestTask, item: Instrument) -> tuple[Path, int]:
    """One symbol's range to its file (and, for sqlite, its table)."""
    out = task.out_for(item)
    assert out is not None  # run_rest exports only when the task names a file
    return export_series(
        lake, item.source, item.instrument, task.timeframe, task.format, out,
        task.start_ms, task.end_ms, table=task.table_for(item),
    )  # fmt: skip
