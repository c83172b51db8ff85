"""Shared builders: seeded geometric-walk 1m bars and an empty lake in a temp folder."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from barlake.dates import to_ms
from barlake.lake import Lake
from walks import random_walk

MINUTE_MS = 60_000


def walk_1m(start: str | int, minutes: int, *, seed: int = 0, price: float = 100.0) -> pd.DataFrame:
    """`minutes` consecutive 1m bars from `start` (UTC): a geometric random walk, valid OHLC."""
    start_ms = to_ms(start)
    assert start_ms is not None
    return random_walk(start_ms, minutes, MINUTE_MS, seed=seed, price=price)


@pytest.fixture
def walk() -> Callable[..., pd.DataFrame]:
    """The walk_1m builder, as a fixture so test modules need not import conftest."""
    return walk_1m


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")
