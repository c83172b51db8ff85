"""Builders for the app tests: seeded 1m walks and the app lake (conftest cannot be imported by name)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from barlake.bars.derive import derive_all
from barlake.dates import to_ms
from barlake.demo import run_demo
from barlake.lake import Lake
from walks import random_walk

MINUTE_MS = 60_000
APP_ENTRY = Path(__file__).parents[2] / "src" / "barlake" / "app" / "streamlit_app.py"


def walk_1m(start: str, minutes: int, *, seed: int = 0, price: float = 100.0) -> pd.DataFrame:
    """`minutes` consecutive 1m bars from `start` (UTC): a seeded geometric walk, valid OHLC."""
    begin = to_ms(start)
    assert begin is not None
    return random_walk(begin, minutes, MINUTE_MS, seed=seed, price=price, min_volume=1)


DAYS = 3
START = "2024-03-01"
HOLE = ("2024-03-02T10:00", "2024-03-02T12:00")  # ETHUSDT: answered, no bars
UNASKED = ("2024-03-02T12:00", "2024-03-03T00:00")  # SOLUSDT: never asked


def build_app_lake(root: Path, *, demo_sync_days: int = 0) -> Path:
    """Write the fixture lake under `root` and return its folder; `demo_sync_days` > 0 also
    runs the demo's emulator sync (the lake `make demo` builds)."""
    lake = Lake(root)
    run_demo(lake, sync_days=demo_sync_days)
    begin, minutes = to_ms(START), DAYS * 24 * 60
    span = (begin, begin + minutes * 60_000)
    eth = walk_1m(START, minutes, seed=1, price=3_000.0)
    eth = eth[(eth.index < HOLE[0]) | (eth.index >= HOLE[1])]
    lake.write("sample", "ETHUSDT", "1m", eth, covered=[span])
    sol = walk_1m(START, minutes, seed=2, price=120.0)
    sol = sol[(sol.index < UNASKED[0]) | (sol.index >= UNASKED[1])]
    asked = [(span[0], to_ms(UNASKED[0])), (to_ms(UNASKED[1]), span[1])]
    lake.write("sample", "SOLUSDT", "1m", sol, covered=asked)
    derive_all(lake, ["5m", "1h", "4h"], source="sample")
    return root
