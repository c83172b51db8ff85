"""Tiny time helpers shared by the lake tests (on sys.path through pytest's `pythonpath`)."""

from __future__ import annotations

import pandas as pd

from barlake.dates import to_ms
from barlake.timeframes import MINUTE_MS


def ms(text: str) -> int:
    value = to_ms(text)
    assert value is not None
    return value


def span(frame: pd.DataFrame) -> tuple[int, int]:
    """[first open, last open + 1m) of a 1m frame."""
    stamps = frame.index.as_unit("ms").asi8
    return int(stamps[0]), int(stamps[-1]) + MINUTE_MS
