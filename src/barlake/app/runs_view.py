"""What the Optimize page knows about each run folder: its state, and whether it is healthy.

A run is only files (context.json, status.json replaced once a second, report.json at the
end) plus, when the app launched it, a pid. A browser refresh or a second browser rebuilds
everything from those, so the monitor survives page reloads. A run whose process died shows
as `died` with what to do, never as a run that is still going: its status.json still says
running, but either its process is gone or nothing has rewritten the file for a while.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from barlake.app.run_launch import Launch, launched_folders, read_launch
from barlake.errors import ConfigError
from barlake.optimize.rundir import CONTEXT, PROGRESS, REPORT, STATUS, STOP_FLAG, TRIALS_CSV

FINAL_STATES = ("complete", "stopped", "time_budget", "partial")
LIVE_STATES = ("launching", "running", "stopping", "writing report")
STALE_S = 30.0  # a running session rewrites status.json about once a second
DEAD_GRACE_S = 5.0  # once its launched process is gone, status.json gets this long


@dataclass
class RunView:
    """One run folder as the page shows it; `problem` is the readable message of a run that
    cannot go on as it is (died, broken, failed to start)."""

    name: str
    path: Path
    state: str
    problem: str | None = None
    context: dict[str, Any] | None = None
    status: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    launch: Launch | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES and self.report is not None

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def resumable(self) -> bool:
        """A run with a readable context whose session is over without completing."""
        return self.context is not None and self.state in (
            "stopped",
            "time_budget",
            "partial",
            "died",
        )


def list_runs(runs_dir: Path, now: datetime | None = None) -> list[RunView]:
    """Every run folder (and every launch that has not made its folder yet), newest first."""
    if not runs_dir.is_dir():
        return []
    names = {p.name for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    names |= set(launched_folders(runs_dir))
    views = [read_run(runs_dir / name, now) for name in sorted(names)]
    runs = [v for v in views if v is not None]
    return sorted(runs, key=_started, reverse=True)


def read_run(path: Path, now: datetime | None = None) -> RunView | None:
    """The run in `path` (None for a folder that is no run and was not launched by the app)."""
    launch = read_launch(path.parent, path.name)
    if not path.is_dir():
        return None if launch is None else _not_created(path, launch)
    view = RunView(path.name, path, "broken", launch=launch)
    loaded: dict[str, Any] = {}
    for name in (CONTEXT, STATUS, REPORT):
        loaded[name], problem = _json(path / name)
        if problem is not None:
            view.problem = problem
            return view
    view.context, view.status, view.report = loaded[CONTEXT], loaded[STATUS], loaded[REPORT]
    if view.context is None and not (path / PROGRESS).exists() and launch is None:
        return None
    view.state, view.problem = _classify(view, now or datetime.now(UTC))
    return view


def _not_created(path: Path, launch: Launch) -> RunView:
    """A launch whose process has not made the run folder: still starting, or failed."""
    if launch.alive:
        return RunView(path.name, path, "launching", launch=launch)
    tail = launch.log_tail() or "(no output)"
    problem = f"The run did not start; its output ends with:\n\n{tail}"
    return RunView(path.name, path, "failed", problem, launch=launch)


def _classify(view: RunView, now: datetime) -> tuple[str, str | None]:
    """(state, problem) from the files and the launched process, if any."""
    alive = None if view.launch is None else view.launch.alive
    if view.context is None:
        if alive:
            return "launching", None
        return "broken", f"{CONTEXT} is missing: this folder cannot be read as a run."
    status = view.status
    if status is None:
        if alive:
            return "launching", None
        if view.report is not None:
            return str(view.report.get("last_status") or view.report["state"]), None
        return "died", (
            f"This run has no {STATUS} and no process: it ended before its workers started. "
            + _next_steps(view.path)
        )
    state = str(status.get("state"))
    if state == "running":
        return _running(view, status, alive, now)
    if state in FINAL_STATES:
        if view.report is not None:
            return state, None
        if alive:
            return "writing report", None
        return "broken", (
            f"The session ended ({state}) but {REPORT} is missing: build it with "
            f"`barlake optimize report {view.path}`."
        )
    return "broken", f"{STATUS} holds an unknown state {state!r}."


def _running(
    view: RunView, status: dict[str, Any], alive: bool | None, now: datetime
) -> tuple[str, str | None]:
    """status.json says running: believe it while its writer lives or it is fresh."""
    age = _age_s(status, now)
    if alive is False and age > DEAD_GRACE_S:
        why = "the process the app started for it is gone"
    elif alive is None and age > STALE_S:
        why = "nothing has updated it"
    else:
        return ("stopping" if (view.path / STOP_FLAG).exists() else "running"), None
    done = (status.get("trials") or {}).get("done", 0)
    return "died", (
        f"This run stopped without finishing: {STATUS} still says running, but {why} "
        f"(last update {age:,.0f} s ago). Its {done} finished trials are kept. "
        + _next_steps(view.path)
    )


def _next_steps(path: Path) -> str:
    return (
        f"Resume it to continue (`barlake optimize resume {path}`), or build the report "
        f"from the finished trials (`barlake optimize report {path}`)."
    )


def _age_s(status: dict[str, Any], now: datetime) -> float:
    """Seconds since status.json was written (infinite when it carries no readable time)."""
    try:
        updated = datetime.fromisoformat(str(status["updated_at"]))
    except (KeyError, ValueError):
        return float("inf")
    return (now - updated).total_seconds()


def _json(path: Path) -> tuple[Any, str | None]:
    """(data, None), (None, None) when the file is absent, or (None, problem) when unreadable."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path.name} cannot be read: {exc.strerror or exc}."
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, f"{path.name} is corrupt ({exc}): this folder cannot be read as a run."
    if not isinstance(data, dict):
        return None, f"{path.name} is corrupt (not a JSON object)."
    return data, None


def _started(view: RunView) -> str:
    if view.context is not None:
        return str(view.context.get("created_at", ""))
    return view.launch.started_at if view.launch is not None else ""


def runs_table(views: list[RunView]) -> pd.DataFrame:
    """One row per run for the list: name, state, series, trials and the outcome in words."""
    rows = []
    for view in views:
        data = (view.context or {}).get("data") or {}
        counts = ((view.status or view.report or {}).get("trials")) or {}
        outcome = view.problem or (view.report or {}).get("message", "")
        rows.append(
            {
                "run": view.name,
                "state": view.state,
                "series": "/".join(str(data[k]) for k in ("source", "instrument", "timeframe"))
                if data
                else "",
                "trials": f"{counts.get('done', 0)}/{counts.get('target', '?')}" if counts else "",
                "started": _started(view)[:19].replace("T", " "),
                "outcome": outcome.splitlines()[0] if outcome else "",
            }
        )
    columns = ["run", "state", "series", "trials", "started", "outcome"]
    return pd.DataFrame(rows, columns=columns)


def progress_table(status: dict[str, Any]) -> pd.DataFrame:
    """Per study: trials done of the target, feasible, and the best train point so far."""
    rows = []
    for study in status.get("studies") or []:
        best = (study.get("best") or [{}])[0]
        rows.append(
            {
                "strategy": study["strategy"],
                "fold": study["fold"],
                "done": study["done"],
                "target": study["target"],
                "feasible": study["feasible"],
                "best train return %": best.get("train_return_pct"),
                "its train max DD %": best.get("train_max_dd_pct"),
            }
        )
    return pd.DataFrame(rows)


def best_points(status: dict[str, Any]) -> pd.DataFrame:
    """Every best-so-far train Pareto point of every study, for a live scatter."""
    rows = [
        {"strategy": study["strategy"], "fold": study["fold"], **point}
        for study in status.get("studies") or []
        for point in study.get("best") or []
    ]
    columns = ["strategy", "fold", "number", "train_return_pct", "train_max_dd_pct"]
    return pd.DataFrame(rows, columns=[*columns, "train_trades"])


def load_trials(path: Path) -> pd.DataFrame:
    """trials.csv of a finished run; a missing or broken file says how to rebuild it."""
    try:
        return pd.read_csv(path / TRIALS_CSV)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{TRIALS_CSV} of {path.name} is missing or unreadable ({exc}): rebuild it with "
            f"`barlake optimize report {path}`"
        ) from None
