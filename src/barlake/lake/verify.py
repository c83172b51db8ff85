"""Check every lake file and, on request, quarantine what is broken so the next sync refetches it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from barlake.bars.derive import (
    BASE,
    compare_with_base,
    derived_offset,
    forget_derived_months,
    is_derived,
)
from barlake.bars.schema import CORE_SCHEMA, TIMESTAMP, bad_row_masks, is_sorted_unique
from barlake.errors import CorruptFileError, DataError
from barlake.lake import layout
from barlake.lake.atomic import stale_temps
from barlake.lake.layout import SeriesKey
from barlake.lake.months import read_month
from barlake.lake.store import Lake
from barlake.timeframes import parse_timeframe


@dataclass
class Problem:
    path: Path
    what: str
    repaired: str = ""

    def __str__(self) -> str:
        tail = f" → {self.repaired}" if self.repaired else ""
        return f"{self.path}: {self.what}{tail}"


def check_month(
    table: pa.Table, key: SeriesKey, year: int, month: int, offset_ms: int
) -> list[str]:
    """Everything a month file promises: schema, order, uniqueness, OHLC sanity, right month."""
    issues = []
    for i, item in enumerate(CORE_SCHEMA):
        if i >= len(table.schema) or table.schema.field(i).name != item.name:
            return [f"columns {table.column_names[:6]} are not {CORE_SCHEMA.names}"]
        if table.schema.field(i).type != item.type:
            issues.append(f"column {item.name} is {table.schema.field(i).type}, not {item.type}")
    if issues:
        return issues
    if not is_sorted_unique(table):
        issues.append("timestamps are not sorted and unique")
    for reason, mask in bad_row_masks(table, parse_timeframe(key.timeframe), offset_ms).items():
        if mask.any():
            issues.append(f"{int(mask.sum())} row(s) fail {reason}")
    ts = table.column(TIMESTAMP).to_numpy()
    lo, hi = layout.month_bounds(year, month)
    if ts.size and (ts[0] < lo or ts[-1] >= hi):
        issues.append(f"bars outside {year:04d}-{month:02d}")
    return issues


def verify(lake: Lake, *, repair: bool = False) -> list[Problem]:
    """Every problem found, one per line; with repair, broken files are quarantined."""
    problems: list[Problem] = []
    for path in stale_temps(lake.root / layout.OHLCV):
        problems.append(Problem(path, "temp file left by an interrupted writer"))
        if repair:
            path.unlink(missing_ok=True)
            problems[-1].repaired = "removed"
    # 1m first: derived months are compared with it, so it must be sound (or quarantined) first.
    for key in sorted(lake.series(), key=lambda k: (k.timeframe != BASE, k)):
        problems.extend(_verify_series(lake, key, repair))
    return problems


def _verify_series(lake: Lake, key: SeriesKey, repair: bool) -> Iterator[Problem]:
    offset = derived_offset(lake, key)
    for year, month in lake.months(key):
        path = lake.path(key, year, month)
        try:
            table = read_month(path)
        except CorruptFileError as exc:
            issues = [f"unreadable ({exc.__cause__})"]
        else:
            issues = check_month(table, key, year, month, offset)
            if not issues and key.timeframe != BASE and is_derived(lake, key):
                try:
                    found = compare_with_base(lake, key, year, month, table, offset)
                except (CorruptFileError, DataError) as exc:
                    found = f"cannot be compared with its 1m bars ({exc})"
                issues = [found] if found else []
        for text in issues:
            problem = Problem(path, text)
            if repair and text is issues[-1]:
                problem.repaired = quarantine(lake, key, year, month)
            yield problem


def quarantine(lake: Lake, key: SeriesKey, year: int, month: int) -> str:
    """Move a month file under _quarantine/ and forget its coverage, so sync fetches it again."""
    path = lake.path(key, year, month)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
    dest = (
        lake.root / layout.QUARANTINE / path.relative_to(lake.root).with_suffix(f".{stamp}.parquet")
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), dest)
    lake.drop_coverage(key, [layout.month_bounds(year, month)])
    forget_derived_months(lake, key)  # derived: the next derive recomputes everything
    return f"moved to {dest.relative_to(lake.root)}, coverage dropped"
