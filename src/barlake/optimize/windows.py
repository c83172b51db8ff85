"""Chronological train/test windows (one split, or k walk-forward folds) and a fingerprint of
the bars, so every worker, `resume`, `report` and a manifest replay use the very same bars.

Walk-forward folds roll: each fold trains on R bars and tests on the T bars right after them,
the next fold starts T bars later, so the test parts are back to back and cover the end of the
series; R / (R + T) is the split (0.75 by default). A test part is never inside any train part
that precedes or equals it in time.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from barlake.errors import DataError

MIN_TRAIN_BARS = 30
MIN_TEST_BARS = 10


@dataclass(frozen=True)
class Window:
    """Bar positions of one fold: train [train_start, train_end), test [train_end, test_end).
    Test signals are computed from train_start on (indicator warm-up), trades from train_end."""

    fold: int
    train_start: int
    train_end: int
    test_end: int

    @property
    def test_start(self) -> int:
        return self.train_end

    def describe(self, index: pd.DatetimeIndex, step_ms: int) -> dict[str, Any]:
        """Positions plus UTC epoch-ms and ISO times of each boundary (ends are exclusive)."""
        stamps = index.as_unit("ms").asi8

        def at(position: int) -> int:
            return int(stamps[position]) if position < len(stamps) else int(stamps[-1]) + step_ms

        bounds = {
            "train_start_ms": at(self.train_start),
            "train_end_ms": at(self.train_end),
            "test_start_ms": at(self.test_start),
            "test_end_ms": at(self.test_end),
        }
        iso = {k.replace("_ms", "_time"): _iso(v) for k, v in bounds.items()}
        counts = {
            "train_bars": self.train_end - self.train_start,
            "test_bars": self.test_end - self.test_start,
        }
        return {**asdict(self), "test_start": self.test_start, **bounds, **iso, **counts}


def make_windows(n_bars: int, split: float, folds: int = 1) -> list[Window]:
    """One split (folds=1) or rolling walk-forward folds over n bars."""
    if folds <= 1:
        train = int(n_bars * split)
        windows = [Window(0, 0, train, n_bars)]
    else:
        test = int(n_bars / (folds + split / (1.0 - split)))
        train = n_bars - folds * test
        windows = [
            Window(i, i * test, i * test + train, i * test + train + test) for i in range(folds)
        ]
        last = windows[-1]
        windows[-1] = Window(last.fold, last.train_start, last.train_end, n_bars)
    for w in windows:
        if (
            w.train_end - w.train_start < MIN_TRAIN_BARS
            or w.test_end - w.test_start < MIN_TEST_BARS
        ):
            raise DataError(
                f"too few bars ({n_bars}) for this split: each fold needs {MIN_TRAIN_BARS} train "
                f"and {MIN_TEST_BARS} test bars; widen --start/--end or use fewer folds"
            )
    return windows


def windows_of(context: dict[str, Any]) -> list[Window]:
    """The windows a run was started with, from its context.json."""
    return [
        Window(w["fold"], w["train_start"], w["train_end"], w["test_end"])
        for w in context["windows"]
    ]


def fingerprint(bars: pd.DataFrame) -> str:
    """sha256 over the timestamps and OHLC values: equal bars, equal fingerprint."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(bars.index.as_unit("ms").asi8).tobytes())
    for column in ("open", "high", "low", "close"):
        digest.update(np.ascontiguousarray(bars[column].to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()
