"""Run a checked jobs file: each task on its own thread, waiting only for the earlier tasks
that write where it writes; a failing task never stops the others.

Stopping (Ctrl+C, or the caller's `stop` event) reaches every task: a stream gets its stop event
and closes its sink, a download stops after its current page with what it fetched in the lake,
and a task still waiting never starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from barlake.errors import BarlakeError, ConfigError
from barlake.sources.registry import FeedFactory
from barlake.stream.batch_rest import run_rest
from barlake.stream.batch_schema import Batch, RestTask, StreamTask, Task
from barlake.stream.model import StreamMetrics

if TYPE_CHECKING:
    from barlake.stream.recorder import StreamUpdate

WAITING, RUNNING, OK, FAILED, STOPPED = "waiting", "running", "ok", "failed", "stopped"
POLL_S = 0.1  # how soon a waiting task or the main thread sees a stop
log = logging.getLogger(__name__)


@dataclass
class TaskStatus:
    """One task as the live table and the summary show it; written by the task's thread only."""

    name: str
    mode: str
    after: tuple[str, ...] = ()
    state: str = WAITING
    rows: int = 0  # rest: 1m bars into the lake, or rows exported; stream: records written
    detail: str = ""  # what it is doing, what it wrote, or why it failed (one line)
    started: float | None = None
    finished: float | None = None

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


class BatchProgress(Protocol):
    """What a front end implements; called from the task threads on every change."""

    def changed(self, status: TaskStatus) -> None: ...


class _Quiet:
    def changed(self, status: TaskStatus) -> None:
        """Nothing to show."""


@dataclass
class BatchReport:
    statuses: list[TaskStatus]
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(s.state == OK for s in self.statuses)

    @property
    def exit_code(self) -> int:
        """0 only when every task succeeded; 130 after a stop, as a shell reports Ctrl+C."""
        return 130 if self.interrupted else 0 if self.ok else 1


@dataclass
class _Run:
    task: Task
    status: TaskStatus
    # this task's own stop, set when the batch's is: sync() sets its stop event on the way out,
    # which must not stop the other tasks
    halt: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


def run_batch(
    batch: Batch,
    *,
    factory: FeedFactory | None = None,
    stop: threading.Event | None = None,
    progress: BatchProgress | None = None,
) -> BatchReport:
    """Run every task of `batch`; statuses in file order. Ctrl+C (or `stop`) stops them all and
    waits for each to wind down; a second Ctrl+C abandons them."""
    stop = stop or threading.Event()
    progress = progress or _Quiet()
    factory = factory or FeedFactory()
    runs = {t.name: _Run(t, TaskStatus(t.name, t.mode, batch.after[t.name])) for t in batch.tasks}
    threads = [
        threading.Thread(
            target=_run_task,
            args=(run, [runs[name] for name in run.status.after], factory, stop, progress),
            name=f"batch-{name}",
            daemon=True,
        )
        for name, run in runs.items()
    ]
    for run in runs.values():
        progress.changed(run.status)  # every task shows up at once, in file order
    for thread in threads:
        thread.start()
    try:
        _wait(list(runs.values()), stop)
    except KeyboardInterrupt:
        stop.set()
        _wait(list(runs.values()), stop)
    return BatchReport([run.status for run in runs.values()], interrupted=stop.is_set())


def _wait(runs: list[_Run], stop: threading.Event) -> None:
    """Wait for every task, passing a stop on to each as soon as it is seen. Waits on events,
    not Thread.join: a Ctrl+C inside join() marks a running thread as finished (CPython 3.11)."""
    for run in runs:
        while not run.done.wait(POLL_S):
            if stop.is_set():
                for each in runs:
                    each.halt.set()


def _run_task(
    run: _Run,
    before: list[_Run],
    factory: FeedFactory,
    stop: threading.Event,
    progress: BatchProgress,
) -> None:
    status = run.status
    for other in before:
        while not other.done.wait(POLL_S) and not stop.is_set():
            pass
    if stop.is_set():
        _end(run, STOPPED, "not started: the batch was stopped", progress)
        return
    status.state, status.started = RUNNING, time.monotonic()
    progress.changed(status)
    state, detail = FAILED, "crashed on an unexpected error (traceback on stderr)"
    try:
        if isinstance(run.task, RestTask):
            run_rest(run.task, factory, run.halt, status, progress.changed)
        else:
            _stream(run.task, run.halt, status, progress.changed)
        state, detail = (STOPPED if stop.is_set() else OK), status.detail
    except (BarlakeError, OSError) as error:
        state, detail = (STOPPED if stop.is_set() else FAILED), str(error)
        log.info("task %s: %s", run.task.name, error)
    finally:  # anything else is a bug: shown as failed, and the thread's traceback is kept
        _end(run, state, detail, progress)


def _end(run: _Run, state: str, detail: str, progress: BatchProgress) -> None:
    run.status.state, run.status.detail = state, detail
    run.status.finished = time.monotonic()
    run.done.set()
    progress.changed(run.status)


def _stream(
    task: StreamTask,
    halt: threading.Event,
    status: TaskStatus,
    changed: Callable[[TaskStatus], None],
) -> None:
    """One live stream until its duration ends or it is stopped; rows counted as they go."""
    run_stream = _stream_runner()
    config = task.config
    status.detail = f"streaming {config.kind} of {', '.join(config.symbols)}"

    def count(update: StreamUpdate) -> None:
        status.rows = _records(update.metrics)
        changed(status)

    metrics = run_stream(config, stop=halt, on_update=count)
    status.rows = _records(metrics)
    where = config.out if config.format != "lake" else f"the lake ({config.timeframe} bars)"
    notes = f"; last error: {metrics.errors[-1]}" if metrics.errors else ""
    status.detail = (
        f"{status.rows:,} records to {where}, {metrics.messages:,} messages, "
        f"{metrics.reconnects} reconnects{notes}"
    )


def _records(metrics: StreamMetrics) -> int:
    return metrics.bars + metrics.trades + metrics.snapshots


def _stream_runner() -> Callable[..., StreamMetrics]:
    """`run_stream`, imported on first use: its WebSocket stack is the `stream` extra."""
    try:
        from barlake.stream.runner import run_stream
    except ImportError as exc:
        raise ConfigError(
            f"live streaming is not available ({exc}); install barlake[stream]"
        ) from exc
    return run_stream
