"""Where the app looks: the lake, runs and instruments `barlake app` passes through the environment.

`barlake app --lake DIR --runs DIR` sets BARLAKE_LAKE / BARLAKE_RUNS before starting Streamlit,
so every page (and every rerun) sees the same folders without re-parsing arguments. No
streamlit import here: the CLI process (launch.py) reads the same names.
"""

from __future__ import annotations

import os
from pathlib import Path

from barlake.lake.store import ENV_VAR as LAKE_ENV
from barlake.lake.store import Lake, resolve_lake

__all__ = [
    "DATA_PAGE",
    "INSTRUMENTS_ENV",
    "LAKE_ENV",
    "OPEN_KEY",
    "RUNS_ENV",
    "get_lake",
    "instruments_files",
    "lake_dir",
    "resolve_runs",
    "runs_dir",
]

RUNS_ENV = "BARLAKE_RUNS"
INSTRUMENTS_ENV = "BARLAKE_INSTRUMENTS"
DEFAULT_RUNS = "runs"

# session_state key another page sets to open a series on the Data page:
# {"source": ..., "instrument": ..., "timeframe": ...} (timeframe optional).
OPEN_KEY = "barlake.open"
DATA_PAGE = "views/data.py"


def resolve_runs(path: Path | None = None) -> Path:
    """--runs, else $BARLAKE_RUNS, else ./runs (where `barlake optimize` writes its run folders)."""
    return path or Path(os.environ.get(RUNS_ENV) or DEFAULT_RUNS)


def lake_dir() -> Path:
    """$BARLAKE_LAKE, else ./data — the same rule as every CLI command."""
    return resolve_lake(None).resolve()


def runs_dir() -> Path:
    return resolve_runs().resolve()


def instruments_files() -> list[Path]:
    """Instruments files that may hold a row to sync: $BARLAKE_INSTRUMENTS, then the demo's."""
    found = []
    env = os.environ.get(INSTRUMENTS_ENV)
    if env:
        found.append(Path(env))
    found.append(lake_dir() / "demo" / "instruments.csv")
    return found


def get_lake() -> Lake:
    """The lake of $BARLAKE_LAKE (a Lake is only its root: nothing worth caching)."""
    return Lake(lake_dir())
