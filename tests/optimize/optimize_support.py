"""Builders for the optimizer tests: seeded 5m random-walk bars in a temporary lake, a small
fast config, and trials.csv without the columns that say who ran a trial and when."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from barlake.lake import Lake
from barlake.optimize import OptimizeConfig
from walks import random_walk

SOURCE, INSTRUMENT, TIMEFRAME = "test", "WALK", "5m"
BARS = 1152  # 4 days of 5m: 864 train, 288 test with the default split
FIVE_MINUTES_MS = 300_000
START_MS = 1_709_251_200_000  # 2024-03-01 UTC


def walk_5m(
    n: int = BARS, *, seed: int = 0, price: float = 100.0, start_ms: int = START_MS
) -> pd.DataFrame:
    """n consecutive 5m bars: a geometric random walk with valid OHLC."""
    return random_walk(
        start_ms, n, FIVE_MINUTES_MS, seed=seed, price=price, sigma=2e-3, min_volume=1
    )


def with_other_tail(bars: pd.DataFrame, first: int, seed: int) -> pd.DataFrame:
    """The same bars before position `first`, a different walk from there on."""
    start = int(bars.index[first].value // 1_000_000)
    tail = walk_5m(
        len(bars) - first, seed=seed, price=float(bars["close"].iloc[first - 1]), start_ms=start
    )
    return pd.concat([bars.iloc[:first], tail])


def write_lake(root: Path, bars: pd.DataFrame) -> Lake:
    lake = Lake(root)
    lake.write(SOURCE, INSTRUMENT, TIMEFRAME, bars)
    return lake


def small_config(**overrides: object) -> OptimizeConfig:
    settings: dict[str, object] = {
        "strategies": ("ma_cross", "range_breakout"),
        "max_trials": 24,
        "population": 8,
        "min_trades": 3,
        "workers": 1,
        "time_budget": 120.0,
    }
    settings.update(overrides)
    return OptimizeConfig(SOURCE, INSTRUMENT, TIMEFRAME, **settings)  # type: ignore[arg-type]


RUN_COLUMNS = ["optuna_number", "worker", "seconds"]


def results(run_dir: Path) -> pd.DataFrame:
    """trials.csv without the columns that name the worker and the arrival order."""
    frame = pd.read_csv(run_dir / "trials.csv").drop(columns=RUN_COLUMNS)
    return frame.sort_values(["fold", "strategy", "number"]).reset_index(drop=True)
