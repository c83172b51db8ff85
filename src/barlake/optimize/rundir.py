"""The run folder: `runs/<run_id>_<instrument>_<tf>/` and the files in it.

context.json   what was asked, on which bars, by which code (written once)
status.json    the live state, replaced atomically once a second
progress.jsonl one JSON event per line (trials, workers, sessions), appended by every process
stop.flag      present = workers finish their current trial and exit
claims.log     which worker runs which trial slot (journal storage only)
optuna.journal the Optuna storage (unless --storage points at a database)
report.json, trials.csv, pareto.csv, champion.csv  written at the end and by `report`
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from barlake.errors import ConfigError
from barlake.lake.atomic import write_bytes_atomic

CONTEXT = "context.json"
STATUS = "status.json"
PROGRESS = "progress.jsonl"
STOP_FLAG = "stop.flag"
REPORT = "report.json"
TRIALS_CSV = "trials.csv"
PARETO_CSV = "pareto.csv"
CHAMPION_CSV = "champion.csv"
CLAIMS = "claims.log"
RUN_ID = re.compile(r"[A-Za-z0-9.-]+")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def json_safe(data: Any) -> Any:
    """Plain JSON: numpy scalars to Python, NaN and infinities to None (null)."""
    if isinstance(data, dict):
        return {str(k): json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(v) for v in data]
    if isinstance(data, np.generic):
        data = data.item()
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def folder_name(run_id: str, instrument: str, timeframe: str) -> str:
    """A run's folder name, `<run_id>_<instrument>_<tf>` (what `RunDir.create` makes)."""
    return f"{run_id}_{instrument}_{timeframe}"


def new_id() -> str:
    """Sortable by start time, unique enough for runs and sessions started the same second."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class RunDir:
    """Paths and atomic reads/writes of one run folder."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._progress: int | None = None  # kept open: workers append an event per trial
        self._stop_flag = str(self.path / STOP_FLAG)  # workers look before every trial

    def __del__(self, close: Callable[[int], None] = os.close) -> None:
        """(`close` bound early, as in `journal.JournalFile`: a worker's run folder may be
        collected at interpreter exit, after `os`.)"""
        if self._progress is not None:
            close(self._progress)

    @classmethod
    def create(
        cls, runs_dir: Path | str, instrument: str, timeframe: str, run_id: str | None = None
    ) -> tuple[RunDir, str]:
        """A new, empty run folder and its run id (given, or made from the time); an existing
        or unwritable folder is a clear error."""
        if run_id is not None and not RUN_ID.fullmatch(run_id):
            raise ConfigError(f"run id must match [A-Za-z0-9.-]+ (no '_'), got {run_id!r}")
        run_id = run_id or new_id()
        path = Path(runs_dir) / folder_name(run_id, instrument, timeframe)
        if path.exists():
            raise ConfigError(f"{path} exists: resume it, or pick another run id")
        try:
            path.mkdir(parents=True)
            (path / PROGRESS).touch()
        except OSError as exc:
            raise ConfigError(
                f"cannot create the run folder {path}: {exc.strerror or exc}; "
                "pass a writable --runs-dir"
            ) from None
        return cls(path), run_id

    @classmethod
    def open(cls, path: Path | str) -> RunDir:
        run = cls(path)
        if not (run.path / CONTEXT).is_file():
            raise ConfigError(f"{run.path} is not a run folder (it has no {CONTEXT})")
        return run

    def file(self, name: str) -> Path:
        return self.path / name

    def read_json(self, name: str) -> Any:
        try:
            return json.loads((self.path / name).read_text())
        except FileNotFoundError:
            return None

    def write_json(self, name: str, data: Any) -> Path:
        """Replace `name` whole or not at all (temp file, fsync, rename)."""
        target = self.path / name
        text = json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"
        write_bytes_atomic(target, text.encode())
        return target

    def context(self) -> dict[str, Any]:
        data = self.read_json(CONTEXT)
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path / CONTEXT} is unreadable")
        return data

    def event(self, kind: str, **fields: Any) -> None:
        """Append one event line; a single O_APPEND write keeps lines from several processes
        whole."""
        line = json.dumps({"time": utc_now(), "event": kind, **fields}, default=str) + "\n"
        if self._progress is None:
            self._progress = os.open(
                self.path / PROGRESS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
            )
        os.write(self._progress, line.encode())

    def events(self) -> list[dict[str, Any]]:
        path = self.path / PROGRESS
        if not path.exists():
            return []
        lines = path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def request_stop(self) -> None:
        (self.path / STOP_FLAG).write_text(utc_now() + "\n")

    def clear_stop(self) -> None:
        (self.path / STOP_FLAG).unlink(missing_ok=True)

    def stop_requested(self) -> bool:
        return os.path.exists(self._stop_flag)
