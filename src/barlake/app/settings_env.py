"""The environment variables `barlake app` sets and the app reads (no streamlit import here,
so the CLI can share them)."""

from __future__ import annotations

import os
from pathlib import Path

LAKE_ENV = "BARLAKE_LAKE"
RUNS_ENV = "BARLAKE_RUNS"
INSTRUMENTS_ENV = "BARLAKE_INSTRUMENTS"
DEFAULT_RUNS = "runs"


def default_runs() -> Path:
    """$BARLAKE_RUNS, else ./runs (where `barlake optimize` writes its run folders)."""
    return Path(os.environ.get(RUNS_ENV) or DEFAULT_RUNS)
