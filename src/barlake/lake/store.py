"""The lake: read ranges of a series, merge validated bars into month files, keep coverage."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from barlake.bars.frame import frame_to_table, table_to_frame
from barlake.bars.schema import CORE_SCHEMA, TIMESTAMP, check
from barlake.dates import to_range
from barlake.lake import coverage as cov
from barlake.lake import intervals as iv
from barlake.lake import layout
from barlake.lake.layout import SeriesKey
from barlake.lake.lock import series_lock
from barlake.lake.months import merge, read_month, read_months, write_month
from barlake.timeframes import floor_ts, parse_timeframe

ENV_VAR = "BARLAKE_LAKE"
DEFAULT_DIR = "data"


def resolve_lake(path: Path | str | None = None) -> Path:
    """--lake, else $BARLAKE_LAKE, else ./data."""
    if path is not None and str(path) != "":
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(DEFAULT_DIR)


@dataclass
class WriteResult:
    """What a write did; `rejected` counts refused rows per reason (never silently stored)."""

    key: SeriesKey
    rows: int = 0
    months: list[tuple[int, int]] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class Lake:
    """A lake folder. Stateless apart from its root: safe to share across threads and processes."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = resolve_lake(root)

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    # --- naming -----------------------------------------------------------------
    def key(self, source: str, instrument: str, timeframe: str) -> SeriesKey:
        return SeriesKey.make(source, instrument, timeframe)

    def series(self, source: str | None = None) -> list[SeriesKey]:
        keys = layout.list_series(self.root)
        return [k for k in keys if source is None or k.source == source]

    def instruments(self, source: str) -> list[str]:
        return sorted({k.instrument for k in self.series(source)})

    def months(self, key: SeriesKey) -> list[tuple[int, int]]:
        return layout.existing_months(self.root, key)

    def path(self, key: SeriesKey, year: int, month: int) -> Path:
        return layout.month_path(self.root, key, year, month)

    # --- reading ----------------------------------------------------------------
    def read_arrow(
        self, source: str, instrument: str, timeframe: str, start: object = None, end: object = None
    ) -> pa.Table:
        """Bars of one series in [start, end) as an Arrow table in lake shape."""
        key = self.key(source, instrument, timeframe)
        lo, hi = to_range(start, end)
        return self.read_key(key, lo, hi)

    def read(
        self, source: str, instrument: str, timeframe: str, start: object = None, end: object = None
    ) -> pd.DataFrame:
        """Bars of one series in [start, end) with a tz-aware UTC index named `time`."""
        return table_to_frame(self.read_arrow(source, instrument, timeframe, start, end))

    def read_key(
        self,
        key: SeriesKey,
        start: int | None = None,
        end: int | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        paths = [self.path(key, *m) for m in self._months_in(key, start, end)]
        if not paths:
            return (
                CORE_SCHEMA.empty_table()
                if columns is None
                else CORE_SCHEMA.empty_table().select(columns)
            )
        tables = read_months(paths, columns)
        table = (
            tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
        )
        return _slice(table, start, end)

    def timestamps(
        self, key: SeriesKey, start: int | None = None, end: int | None = None
    ) -> np.ndarray:
        return self.read_key(key, start, end, columns=[TIMESTAMP]).column(TIMESTAMP).to_numpy()

    def _months_in(
        self, key: SeriesKey, start: int | None, end: int | None
    ) -> list[tuple[int, int]]:
        lo = layout.month_of(start) if start is not None else None
        hi = layout.month_of(end - 1) if end is not None else None
        return [m for m in self.months(key) if (lo is None or m >= lo) and (hi is None or m <= hi)]

    # --- coverage ---------------------------------------------------------------
    def coverage(self, key: SeriesKey) -> cov.Coverage:
        return cov.load(layout.series_dir(self.root, key) / layout.COVERAGE_FILE)

    def add_coverage(self, key: SeriesKey, spans: iv.Intervals) -> None:
        with series_lock(layout.series_dir(self.root, key)):
            self._save_coverage(key, self.coverage(key).add(spans))

    def drop_coverage(self, key: SeriesKey, spans: iv.Intervals) -> None:
        with series_lock(layout.series_dir(self.root, key)):
            self._save_coverage(key, self.coverage(key).drop(spans))

    def _save_coverage(self, key: SeriesKey, coverage: cov.Coverage) -> None:
        cov.save(layout.series_dir(self.root, key) / layout.COVERAGE_FILE, coverage)

    def present(self, key: SeriesKey, start: int, end: int) -> iv.Intervals:
        """Windows covered by stored bars inside [start, end)."""
        tf = parse_timeframe(key.timeframe)
        return iv.clip(iv.from_points(self.timestamps(key, start - tf + 1, end), tf), start, end)

    def known_empty(self, key: SeriesKey, start: int, end: int) -> iv.Intervals:
        """Answered by a source but holding no bars (weekends, outages): never fetched again."""
        answered = iv.clip(self.coverage(key).answered, start, end)
        return iv.subtract(answered, self.present(key, start, end))

    def missing(self, key: SeriesKey, start: int, end: int) -> iv.Intervals:
        """Not yet asked of any source."""
        return self.coverage(key).missing(start, end)

    # --- writing ----------------------------------------------------------------
    def write(
        self,
        source: str,
        instrument: str,
        timeframe: str,
        bars: pd.DataFrame | pa.Table,
        *,
        covered: iv.Intervals | None = None,
        offset_ms: int = 0,
    ) -> WriteResult:
        """Validate and merge bars; then record `covered` (minus rejected bars) as answered."""
        key = self.key(source, instrument, timeframe)
        table = bars if isinstance(bars, pa.Table) else frame_to_table(bars)
        return self.write_key(key, table, covered=covered, offset_ms=offset_ms)

    def replace_range(
        self, key: SeriesKey, table: pa.Table, start: int, end: int, *, offset_ms: int = 0
    ) -> WriteResult:
        """Make [start, end) of a series hold exactly `table` and be answered (derived data)."""
        return self.write_key(
            key, table, covered=[(start, end)], offset_ms=offset_ms, replace=(start, end)
        )

    def write_key(
        self,
        key: SeriesKey,
        table: pa.Table,
        *,
        covered: iv.Intervals | None = None,
        offset_ms: int = 0,
        replace: tuple[int, int] | None = None,
    ) -> WriteResult:
        tf = parse_timeframe(key.timeframe)
        checked = check(table, tf, offset_ms)
        result = WriteResult(key, checked.table.num_rows, [], checked.rejected, checked.duplicates)
        parts = dict(_split_months(checked.table))
        with series_lock(layout.series_dir(self.root, key)):
            if replace is not None:  # months in the range with no new rows may need rows dropped
                for ym in set(layout.months_between(*replace)) & set(self.months(key)):
                    parts.setdefault(ym, checked.table.schema.empty_table())
            for (year, month), part in sorted(parts.items()):
                self._merge_month(self.path(key, year, month), part, replace)
                result.months.append((year, month))
            # Data first, coverage second: a crash in between costs a refetch, never a hole.
            if covered or replace is not None:
                coverage = self.coverage(key)
                if replace is not None:
                    coverage = coverage.drop([replace])
                if covered:
                    starts = {floor_ts(int(t), tf, offset_ms) for t in checked.rejected_ts}
                    refused = [(start, start + tf) for start in starts]
                    coverage = coverage.add(iv.subtract(covered, refused))
                self._save_coverage(key, coverage)
        return result

    @staticmethod
    def _merge_month(path: Path, part: pa.Table, replace: tuple[int, int] | None) -> None:
        existing = read_month(path) if path.exists() else part.schema.empty_table()
        merged = merge(existing, part, replace)
        if merged.num_rows:
            write_month(path, merged)
        elif path.exists():
            path.unlink()


def _slice(table: pa.Table, start: int | None, end: int | None) -> pa.Table:
    """Zero-copy trim of a sorted table to [start, end)."""
    if table.num_rows == 0 or (start is None and end is None):
        return table
    ts = table.column(TIMESTAMP).to_numpy()
    lo = 0 if start is None else int(np.searchsorted(ts, start, side="left"))
    hi = ts.size if end is None else int(np.searchsorted(ts, end, side="left"))
    return table if (lo, hi) == (0, ts.size) else table.slice(lo, max(hi - lo, 0))


def _split_months(table: pa.Table) -> list[tuple[tuple[int, int], pa.Table]]:
    """Consecutive runs of one calendar month (table is sorted)."""
    if table.num_rows == 0:
        return []
    ts = table.column(TIMESTAMP).to_numpy()
    month_idx = ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    cuts = np.flatnonzero(np.diff(month_idx)) + 1
    bounds = [0, *cuts.tolist(), ts.size]
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        m = int(month_idx[lo])
        parts.append(((1970 + m // 12, m % 12 + 1), table.slice(lo, hi - lo)))
    return parts


def read(
    source: str,
    instrument: str,
    timeframe: str,
    start: object = None,
    end: object = None,
    lake: Path | str | None = None,
) -> pd.DataFrame:
    """`barlake.read`: bars in [start, end) with a tz-aware UTC index named `time`."""
    return Lake(lake).read(source, instrument, timeframe, start, end)


def read_arrow(
    source: str,
    instrument: str,
    timeframe: str,
    start: object = None,
    end: object = None,
    lake: Path | str | None = None,
) -> pa.Table:
    """`barlake.read_arrow`: the same bars as an Arrow table in lake shape (`timestamp_ms` first)."""
    return Lake(lake).read_arrow(source, instrument, timeframe, start, end)
