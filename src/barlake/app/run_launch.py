"""Start `barlake optimize` from the app as its own process, and tell later whether it lives.

A run launched from a page must outlive the browser tab and the Streamlit session, so it runs
as a separate process in its own session (`start_new_session=True`), not in a thread. Its
output goes to a log and its pid to a launch record, both in `<runs>/.launches/`: a run that
fails on bad input exits before its run folder exists, so the log cannot live inside it. A
later page load (or another browser) reads the record to tell a live run from a dead one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from barlake.errors import ConfigError
from barlake.lake.atomic import write_bytes_atomic
from barlake.optimize.config import OptimizeConfig
from barlake.optimize.rundir import folder_name, new_id, utc_now

LAUNCHES = ".launches"
OPTIMIZE = [sys.executable, "-m", "barlake.cli.main", "optimize"]
LOG_TAIL_LINES = 20
# Popen objects of the processes this server started: polling them reaps an ended child,
# which would otherwise linger as a zombie that os.kill(pid, 0) still reports alive.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Launch:
    """One process the app started for a run folder: what ran, where its output goes."""

    folder: str
    pid: int
    argv: list[str]
    started_at: str
    log: str
    kind: str = "start"

    @property
    def alive(self) -> bool:
        return process_alive(self.pid)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the process's output (empty when the log is gone)."""
        try:
            text = Path(self.log).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def optimize_argv(config: OptimizeConfig, *, runs_dir: Path, run_id: str, lake: Path) -> list[str]:
    """The `barlake optimize` command line that runs `config` (the same flags a user types)."""
    argv = [*OPTIMIZE, "--source", config.source, "--instrument", config.instrument]
    argv += ["--timeframe", config.timeframe]
    flags: dict[str, Any] = {
        "--start": config.start,
        "--end": config.end,
        "--strategies": ",".join(config.strategies),
        "--modes": ",".join(config.modes),
        "--max-trials": config.max_trials,
        "--time-budget": config.time_budget,
        "--workers": config.workers,
        "--split": config.split,
        "--walk-forward": config.walk_forward,
        "--dd-max": config.dd_max,
        "--fees-bps": config.fees_bps,
        "--slippage-bps": config.slippage_bps,
        "--seed": config.seed,
        "--sampler": config.sampler,
        "--population": config.population,
        "--min-trades": config.min_trades,
    }
    for flag, value in flags.items():
        if value is not None:
            argv += [flag, str(value)]
    return [*argv, "--runs-dir", str(runs_dir), "--run-id", run_id, "--lake", str(lake)]


def launch_run(
    config: OptimizeConfig, *, runs_dir: Path, lake: Path, run_id: str | None = None
) -> Launch:
    """Start a new run in the background; refuses a run id whose folder already exists."""
    run_id = run_id or new_id()
    folder = folder_name(run_id, config.instrument, config.timeframe)
    if (runs_dir / folder).exists():
        raise ConfigError(f"{runs_dir / folder} exists: pick another run id")
    argv = optimize_argv(config, runs_dir=runs_dir, run_id=run_id, lake=lake)
    return _spawn(runs_dir, folder, argv, "start")


def launch_resume(run_dir: Path) -> Launch:
    """Continue a stopped, budget-limited or dead run in the background (`optimize resume`)."""
    argv = [*OPTIMIZE, "resume", str(run_dir)]
    return _spawn(run_dir.parent, run_dir.name, argv, "resume")


def _spawn(runs_dir: Path, folder: str, argv: list[str], kind: str) -> Launch:
    """Popen in a new session with output appended to the folder's log; record the pid."""
    where = runs_dir / LAUNCHES
    try:
        where.mkdir(parents=True, exist_ok=True)
        log_path = where / f"{folder}.log"
        with open(log_path, "ab") as log:
            log.write(f"--- {utc_now()} {kind}: {' '.join(argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
    except OSError as exc:
        raise ConfigError(f"cannot start the run in {runs_dir}: {exc.strerror or exc}") from None
    _CHILDREN[proc.pid] = proc
    launch = Launch(folder, proc.pid, argv, utc_now(), str(log_path), kind)
    write_bytes_atomic(where / f"{folder}.json", json.dumps(asdict(launch), indent=2).encode())
    return launch


def read_launch(runs_dir: Path, folder: str) -> Launch | None:
    """The last launch record of a folder, or None (none, or unreadable: nothing to tell)."""
    path = runs_dir / LAUNCHES / f"{folder}.json"
    try:
        data = json.loads(path.read_text())
        return Launch(**data)
    except (OSError, ValueError, TypeError):
        return None


def launched_folders(runs_dir: Path) -> list[str]:
    """Folders with a launch record (including runs that failed before creating theirs)."""
    where = runs_dir / LAUNCHES
    if not where.is_dir():
        return []
    return sorted(p.stem for p in where.glob("*.json"))


def process_alive(pid: int) -> bool:
    """Whether the process runs; our own ended children are reaped so they do not count."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that pid: it exists
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that ended but was not reaped yet (Linux /proc; elsewhere assume not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]
