"""Finished optimizer run folders for the app tests, made by `barlake.optimize.start` itself
(one worker in the test process, a few seconds), never written by hand.

    from run_fixtures import finished_run          # a module-scoped pytest fixture: FinishedRun
    run = build_finished_run(tmp_path)             # the same, in a folder of your choice
    run_dir = make_finished_run(lake_dir, runs_dir, source="sample", instrument="BTCUSDT")
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from barlake.lake import Lake
from barlake.optimize import OptimizeConfig, start
from walks import random_walk

SOURCE, INSTRUMENT, TIMEFRAME = "test", "WALK", "5m"
RUN_ID = "fixture"
BARS = 1152  # 4 days of 5m: 864 train, 288 test
START_MS = 1_709_251_200_000  # 2024-03-01 UTC
FIVE_MINUTES_MS = 300_000


@dataclass(frozen=True)
class FinishedRun:
    """A lake, a runs folder and one complete run in it that has a champion."""

    lake: Path
    runs: Path
    run_dir: Path


def walk_5m(n: int = BARS, *, seed: int = 0, price: float = 100.0) -> pd.DataFrame:
    """n consecutive 5m bars from 2024-03-01: a seeded geometric walk with valid OHLC."""
    return random_walk(
        START_MS, n, FIVE_MINUTES_MS, seed=seed, price=price, sigma=2e-3, min_volume=1
    )


def write_walk_lake(root: Path) -> Path:
    """A lake holding one 5m series, test/WALK."""
    Lake(root).write(SOURCE, INSTRUMENT, TIMEFRAME, walk_5m())
    return root


def make_finished_run(
    lake_dir: Path,
    runs_dir: Path,
    *,
    source: str = SOURCE,
    instrument: str = INSTRUMENT,
    timeframe: str = TIMEFRAME,
    run_id: str = RUN_ID,
    **overrides: object,
) -> Path:
    """Run a tiny optimisation to the end in this process; returns its run folder."""
    settings: dict[str, object] = {
        "strategies": ("ma_cross", "range_breakout"),
        "max_trials": 16,
        "population": 8,
        "min_trades": 3,
        "workers": 1,
        "time_budget": 120.0,
    }
    settings.update(overrides)
    config = OptimizeConfig(source, instrument, timeframe, **settings)  # type: ignore[arg-type]
    outcome = start(config, lake=lake_dir, runs_dir=runs_dir, run_id=run_id, processes=False)
    assert outcome.state == "complete", outcome.state
    return outcome.run_dir


def copy_run(run_dir: Path, runs_dir: Path, name: str | None = None) -> Path:
    """A copy of a run folder under `runs_dir` (to break it without touching the original)."""
    target = runs_dir / (name or run_dir.name)
    shutil.copytree(run_dir, target)
    return target


def build_finished_run(root: Path) -> FinishedRun:
    """A walk lake and a runs folder under `root`, with one complete run that has a champion."""
    lake = write_walk_lake(root / "lake")
    runs = root / "runs"
    return FinishedRun(lake, runs, make_finished_run(lake, runs))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    """A complete run with a champion over a 4-day 5m walk (read-only: copy it to break it)."""
    return build_finished_run(tmp_path_factory.mktemp("finished-run"))
