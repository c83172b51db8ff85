"""Start, resume, join and stop a run; a session is one of those invocations on one machine.

The calling process only watches: it starts the worker processes, writes status.json about
once a second (and hands it to `on_status` for a terminal view), turns the first Ctrl+C into a
stop request (workers finish their current trial), terminates the workers on a second one, and
writes the report when the workers are gone.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from barlake.errors import ConfigError
from barlake.lake import Lake
from barlake.optimize.claims import SqlClaims
from barlake.optimize.config import OptimizeConfig
from barlake.optimize.context import build_context, load_bars, read_bars, run_config
from barlake.optimize.journal import open_storage, quiet_optuna
from barlake.optimize.report import Report, build_report
from barlake.optimize.rundir import CONTEXT, STATUS, RunDir, new_id
from barlake.optimize.status import snapshot
from barlake.optimize.studies import (
    SESSION,
    STOP,
    StudyRef,
    StudyView,
    open_studies,
    request_stop,
    set_session,
)
from barlake.optimize.studylog import open_views
from barlake.optimize.windows import make_windows
from barlake.optimize.worker import WorkerSpec, process_main, work

if TYPE_CHECKING:
    import pandas as pd

TICK_S = 1.0
StatusCallback = Callable[[dict[str, Any]], None]


@dataclass
class Outcome:
    """How a session ended: complete, stopped, time_budget or partial (a worker failed)."""

    run_dir: Path
    state: str
    status: dict[str, Any]
    report: Report | None
    failed_workers: int = 0


def start(
    config: OptimizeConfig,
    *,
    lake: Lake | Path | str | None = None,
    runs_dir: Path | str = "runs",
    run_id: str | None = None,
    on_status: StatusCallback | None = None,
    processes: bool = True,
) -> Outcome:
    """Create the run folder (runs_dir/<run_id>_<instrument>_<tf>, the id made from the time
    unless given) and its studies, then run a session with `config.workers` processes
    (`processes=False`: one worker in this process)."""
    quiet_optuna()
    store = lake if isinstance(lake, Lake) else Lake(lake)
    bars = read_bars(store, config)
    windows = make_windows(len(bars), config.split, config.folds)
    run, run_id = RunDir.create(runs_dir, config.instrument, config.timeframe, run_id)
    context = build_context(config, store, bars, windows, run_id)
    run.write_json(CONTEXT, context)
    refs = _studies(run, context, config, create=True)
    run.event("run_created", run_id=run_id, studies=[r.name for r in refs])
    return _session(
        run, config, refs, config.workers, config.time_budget, on_status, processes, bars=bars
    )


def resume(
    run_dir: Path | str,
    *,
    workers: int | None = None,
    time_budget: float | None = None,
    lake: Path | str | None = None,
    storage: str | None = None,
    on_status: StatusCallback | None = None,
    processes: bool = True,
) -> Outcome:
    """A new session on an existing run: finished trials stay, the rest continues."""
    quiet_optuna()
    run = RunDir.open(run_dir)
    context = run.context()
    config = run_config(context, storage)
    bars = load_bars(context, lake)  # a changed lake is refused before any worker starts
    refs = _studies(run, context, config)
    budget = time_budget or config.time_budget
    return _session(
        run,
        config,
        refs,
        workers or config.workers,
        budget,
        on_status,
        processes,
        bars=bars,
        lake=lake,
    )


def join(
    run_dir: Path | str,
    *,
    workers: int | None = None,
    time_budget: float | None = None,
    lake: Path | str | None = None,
    storage: str | None = None,
    on_status: StatusCallback | None = None,
    processes: bool = True,
) -> Outcome:
    """More workers for the current session of a run, from this or another machine."""
    quiet_optuna()
    run = RunDir.open(run_dir)
    context = run.context()
    config = run_config(context, storage)
    if config.storage is None and context["host"] != socket.gethostname():
        raise ConfigError(
            f"this run keeps its trials in a journal file on {context['host']}: workers on "
            "other machines need a run started with --storage postgresql://..."
        )
    bars = load_bars(context, lake)
    refs = _studies(run, context, config)
    session = refs[0].attr(SESSION)
    if session is None or refs[0].attr(STOP) == session:
        raise ConfigError("this run's session was stopped: use `barlake optimize resume`")
    budget = time_budget or config.time_budget
    return _session(
        run,
        config,
        refs,
        workers or config.workers,
        budget,
        on_status,
        processes,
        bars=bars,
        lake=lake,
        session=session,
    )


def stop(run_dir: Path | str, *, storage: str | None = None) -> None:
    """Ask every worker of the run to finish its current trial and exit (stop.flag for this
    machine, the study's stop attr for workers elsewhere)."""
    run = RunDir.open(run_dir)
    run.request_stop()
    run.event("stop_requested", by="stop")
    context = run.context()
    config = run_config(context, storage)
    refs = _studies(run, context, config)
    session = refs[0].attr(SESSION)
    if session is not None:
        request_stop(refs, session)


def _studies(
    run: RunDir, context: dict[str, Any], config: OptimizeConfig, *, create: bool = False
) -> list[StudyRef]:
    storage = open_storage(config.storage, run.path)
    if config.storage is not None:
        SqlClaims(config.storage).create_table()
    if create:
        taken = set(optuna.get_all_study_names(storage)) & {s["name"] for s in context["studies"]}
        if taken:
            raise ConfigError(
                f"the storage already holds studies {sorted(taken)}: pick another run id"
            )
    return open_studies(storage, context["studies"], create=create)


def _session(
    run: RunDir,
    config: OptimizeConfig,
    refs: list[StudyRef],
    workers: int,
    budget: float,
    on_status: StatusCallback | None,
    processes: bool,
    *,
    bars: pd.DataFrame,
    lake: Path | str | None = None,
    session: str | None = None,
) -> Outcome:
    if session is None:
        session = new_id()
        set_session(refs, session)
        run.clear_stop()
    deadline = time.time() + budget
    parent = os.getpid() if processes else None
    lake_dir = str(lake) if lake else None
    specs = [
        WorkerSpec(str(run.path), session, i, deadline, lake_dir, config.storage, parent)
        for i in range(workers if processes else 1)
    ]
    run.event("session_started", session=session, workers=len(specs), time_budget=budget)
    watched = open_views(config.storage, run.path, run.context()["studies"])
    tick = _ticker(run, watched, config, session, len(specs), on_status)
    failed = _run_workers(specs, tick, lambda: _interrupt(run, refs, session), processes)
    state = _final_state(run, refs, config, session, deadline, failed)
    status = tick(state)
    run.event("session_finished", session=session, state=state, failed_workers=failed)
    report = build_report(run.path, storage=config.storage, bars=bars, refs=refs)
    return Outcome(run.path, state, status, report, failed)


def _ticker(
    run: RunDir,
    refs: list[StudyView],
    config: OptimizeConfig,
    session: str,
    started_workers: int,
    on_status: StatusCallback | None,
) -> Callable[..., dict[str, Any]]:
    """A function that writes status.json (and hands it to `on_status`) when called."""
    started = time.monotonic()
    run_id = run.context()["run_id"]

    def tick(state: str = "running", alive: int = 0) -> dict[str, Any]:
        status = snapshot(
            refs,
            config.max_trials,
            run_id=run_id,
            state=state,
            session=session,
            started=started,
            workers=(alive, started_workers),
        )
        run.write_json(STATUS, status)
        if on_status is not None:
            on_status(status)
        return status

    return tick


def _run_workers(
    specs: list[WorkerSpec],
    tick: Callable[..., Any],
    on_interrupt: Callable[[], None],
    processes: bool,
) -> int:
    """Run the workers (in this process when `processes` is False); how many failed."""
    if not processes:
        work(specs[0])
        return 0
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=process_main, args=(spec,), name=f"barlake-optimize-{spec.index}")
        for spec in specs
    ]
    for proc in procs:
        proc.start()
    _watch(procs, tick, on_interrupt)
    return sum(1 for proc in procs if proc.exitcode != 0)


def _watch(
    procs: Sequence[BaseProcess], tick: Callable[..., Any], on_interrupt: Callable[[], None]
) -> None:
    """Tick until every process has ended. First Ctrl+C: a stop request; second: terminate."""
    interrupted = False
    while True:
        try:
            while alive := [p for p in procs if p.is_alive()]:
                tick(alive=len(alive))
                wait([p.sentinel for p in alive], timeout=TICK_S)
            for proc in procs:
                proc.join()
            return
        except KeyboardInterrupt:
            if interrupted:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.join()
                raise
            interrupted = True
            on_interrupt()


def _interrupt(run: RunDir, refs: list[StudyRef], session: str) -> None:
    run.request_stop()
    run.event("stop_requested", by="ctrl-c")
    request_stop(refs, session)


def _final_state(
    run: RunDir,
    refs: list[StudyRef],
    config: OptimizeConfig,
    session: str,
    deadline: float,
    failed: int,
) -> str:
    if all(len(ref.refresh()) >= config.max_trials for ref in refs):
        return "complete"
    if run.stop_requested() or refs[0].attr(STOP) == session:
        return "stopped"
    if time.time() >= deadline and not failed:
        return "time_budget"
    return "partial"
