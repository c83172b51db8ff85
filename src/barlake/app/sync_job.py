"""Background syncs started from the Data page, kept in a module-level registry.

A Streamlit rerun re-executes the page script but not imported modules, so a job started on
one run is found again on the next (and by another browser tab) under its (lake, source,
instrument) key. The job runs the ordinary `barlake.sync.sync` on a thread and counts the
minutes answered against the minutes the plan said were missing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from barlake.errors import BarlakeError, ConfigError
from barlake.instruments import Instrument, load_instruments
from barlake.lake import Lake
from barlake.sources.base import Page
from barlake.sync import InstrumentPlan, InstrumentResult, Progress, SyncOptions, Window, sync
from barlake.timeframes import MINUTE_MS, parse_timeframe

JobKey = tuple[str, str, str]


@dataclass(frozen=True)
class RowLookup:
    """The instruments row for a series, or why there is none (files searched, problems met)."""

    row: Instrument | None
    path: Path | None
    searched: list[Path]
    problems: list[str] = field(default_factory=list)


def find_row(files: list[Path], source: str, instrument: str) -> RowLookup:
    """First row naming (source, instrument) in the given instruments files, in order."""
    problems, searched = [], []
    for path in files:
        if not path.is_file():
            continue
        searched.append(path)
        try:
            rows = load_instruments(path).instruments
        except BarlakeError as exc:
            problems.append(f"{path}: {exc}")
            continue
        for row in rows:
            if row.key == (source, instrument):
                return RowLookup(row, path, searched, problems)
    return RowLookup(None, None, searched, problems)


@dataclass
class SyncJob(Progress):
    """One running (or finished) sync; its fields are read by the page while the thread writes."""

    row: Instrument
    planned: int = 0  # minutes missing when the sync began
    done: int = 0  # minutes answered so far
    bars: int = 0
    started_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    result: InstrumentResult | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def fraction(self) -> float:
        """0..1 for the progress bar; 1 once finished, whatever the plan guessed."""
        if not self.running:
            return 1.0
        return min(self.done / self.planned, 0.99) if self.planned else 0.0

    def started(self, item: Instrument, plan: InstrumentPlan) -> None:
        self.planned = plan.missing_bars

    def advanced(self, item: Instrument, page: Page) -> None:
        self.done += (page.answered[1] - page.answered[0]) // MINUTE_MS
        self.bars += page.bars.num_rows

    def finished(self, result: InstrumentResult) -> None:
        self.result = result


_JOBS: dict[JobKey, SyncJob] = {}
_LOCK = threading.Lock()


def job_for(lake: Lake, source: str, instrument: str) -> SyncJob | None:
    """The job last started for this series in this process, running or finished."""
    with _LOCK:
        return _JOBS.get((str(lake.root), source, instrument))


def start_sync(
    lake: Lake,
    row: Instrument,
    window: Window,
    derive: tuple[str, ...],
) -> SyncJob:
    """Start syncing one row on a thread (or return the one already running for it)."""
    key = (str(lake.root), row.source, row.instrument)
    derived = tuple(tf for tf in derive if parse_timeframe(tf) > MINUTE_MS)
    with _LOCK:
        current = _JOBS.get(key)
        if current is not None and current.running:
            return current
        job = SyncJob(row)
        job.thread = threading.Thread(
            target=_run, args=(lake, job, SyncOptions(window, derived)), daemon=True,
            name=f"app-sync-{row.source}-{row.instrument}",
        )  # fmt: skip
        _JOBS[key] = job
    job.thread.start()
    return job


def _run(lake: Lake, job: SyncJob, options: SyncOptions) -> None:
    """The thread body: the sync reports failures in its result, config problems raise."""
    try:
        [result] = sync(lake, [job.row], options, job)
        job.result = result
        job.error = result.error
    except (BarlakeError, OSError) as exc:
        job.error = str(exc) or type(exc).__name__
    finally:
        job.finished_at = time.monotonic()


def wait(job: SyncJob, timeout: float) -> bool:
    """Block until the job ends or `timeout` seconds pass; True when it ended."""
    if job.thread is None:
        raise ConfigError("this sync job was never started")
    job.thread.join(timeout)
    return not job.running
