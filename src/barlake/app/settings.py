"""Where the app looks: the lake and runs folders `barlake app` passes through the environment.

`barlake app --lake DIR --runs DIR` sets BARLAKE_LAKE / BARLAKE_RUNS before starting Streamlit,
so every page (and every rerun) sees the same folders without re-parsing arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from barlake.app.settings_env import INSTRUMENTS_ENV, LAKE_ENV, RUNS_ENV, default_runs
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
    "runs_dir",
]

# session_state key another page sets to open a series on the Data page:
# {"source": ..., "instrument": ..., "timeframe": ...} (timeframe optional).
OPEN_KEY = "barlake.open"
DATA_PAGE = "views/data.py"


def lake_dir() -> Path:
    """$BARLAKE_LAKE, else ./data — the same rule as every CLI command."""
    return resolve_lake(None).resolve()


def runs_dir() -> Path:
    """$BARLAKE_RUNS, else ./runs (where `barlake optimize` writes its run folders)."""
    return default_runs().resolve()


def instruments_files() -> list[Path]:
    """Instruments files that may hold a row to sync: $BARLAKE_INSTRUMENTS, then the demo's."""
    found = []
    env = os.environ.get(INSTRUMENTS_ENV)
    if env:
        found.append(Path(env))
    found.append(lake_dir() / "demo" / "instruments.csv")
    return found


@st.cache_resource(show_spinner=False)
def _lake(root: str) -> Lake:
    return Lake(root)


def get_lake() -> Lake:
    """One Lake handle per folder for the whole server (a Lake is stateless and thread-safe)."""
    return _lake(str(lake_dir()))
