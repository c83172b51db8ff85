"""External timestamped series (a sentiment score, funding, on-chain data) for rule strategies.

A CSV or Parquet file with a time column and a value column. Times are read as the bar-file
importer reads them (ISO text, naive is UTC; epoch seconds/ms/µs/ns by magnitude; a blank time
is refused). Joined to bars strictly as of each bar's close, so a value published after the
close can never leak into that bar's signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barlake.errors import ConfigError
from barlake.files.importer import time_column, times_to_ms


@dataclass(frozen=True)
class External:
    """A sorted series: epoch-ms times and float values."""

    times_ms: np.ndarray
    values: np.ndarray

    def as_of(self, at_ms: np.ndarray) -> np.ndarray:
        """The last value stamped at or before each instant; NaN before the first one."""
        pos = np.searchsorted(self.times_ms, at_ms, side="right") - 1
        out = (
            self.values[np.clip(pos, 0, None)] if self.values.size else np.full(at_ms.shape, np.nan)
        )
        return np.where(pos >= 0, out, np.nan)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        column: str | None = None,
        time: str | None = None,
        what: str = "external",
    ) -> External:
        """Pick the time and value columns of a frame (a DatetimeIndex serves as time)."""
        if isinstance(frame.index, pd.DatetimeIndex) and time is None:
            frame = frame.reset_index(names="time")
        time_col = time or time_column(frame.columns)
        if time_col is None or time_col not in frame.columns:
            raise ConfigError(
                f"{what}: no time column (name one with time: or call it time, timestamp or date)"
            )
        others = [c for c in frame.columns if c != time_col]
        value_col = column or (others[0] if len(others) == 1 else None)
        if value_col is None or value_col not in frame.columns:
            raise ConfigError(f"{what}: name the value column with column: (have {others})")
        times = times_to_ms(frame[time_col], origin=what)
        values = pd.to_numeric(frame[value_col], errors="coerce").to_numpy(dtype=np.float64)
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
        last = np.r_[times[1:] != times[:-1], True]  # repeated stamps: the last row wins
        return cls(times[last], values[last])


def load_external(spec: Any, base_dir: Path, name: str) -> External:
    """`{path: file, column: name, time: name}`, a path, or (from Python) a Series or frame
    with a DatetimeIndex → External."""
    if isinstance(spec, External):
        return spec
    if isinstance(spec, pd.Series):
        spec = spec.rename(name).to_frame()
    if isinstance(spec, pd.DataFrame):
        return External.from_frame(
            spec, name if name in spec.columns else None, what=f"external {name!r}"
        )
    if isinstance(spec, str | Path):
        spec = {"path": str(spec)}
    if not isinstance(spec, Mapping) or "path" not in spec:
        raise ConfigError(
            f"external {name!r} needs a path: external: {{{name}: {{path: file.csv}}}}"
        )
    path = Path(str(spec["path"]))
    path = path if path.is_absolute() else base_dir / path
    try:
        frame = (
            pd.read_parquet(path)
            if path.suffix.lower() in (".parquet", ".pq")
            else pd.read_csv(path)
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read external series {name!r} from {path}: {exc}") from exc
    return External.from_frame(frame, spec.get("column"), spec.get("time"), f"external {name!r}")
