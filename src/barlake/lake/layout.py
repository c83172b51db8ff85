"""Where things live in the lake: names checked, paths built, months enumerated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from barlake.errors import ConfigError
from barlake.timeframes import canonical

NAME_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")
MONTH_FILE_RE = re.compile(r"^(0[1-9]|1[0-2])\.parquet$")
YEAR_DIR_RE = re.compile(r"^[0-9]{4}$")
OHLCV = "ohlcv"
COVERAGE_FILE = "_coverage.json"
DERIVE_FILE = "_derive.json"
LOCK_FILE = ".lock"
QUARANTINE = "_quarantine"


def check_name(kind: str, name: str) -> str:
    """Refuse anything that could escape the lake or collide: only [A-Za-z0-9._-], not all dots."""
    if not isinstance(name, str) or not NAME_RE.match(name) or set(name) == {"."}:
        raise ConfigError(
            f"bad {kind} name {name!r}: use only letters, digits, '.', '_' and '-' "
            "(no slashes, no spaces, not empty, not '.' or '..')"
        )
    return name


@dataclass(frozen=True, order=True)
class SeriesKey:
    """One series: a source's instrument at one timeframe (canonical name such as '1h')."""

    source: str
    instrument: str
    timeframe: str

    @classmethod
    def make(cls, source: str, instrument: str, timeframe: str) -> SeriesKey:
        return cls(
            check_name("source", source), check_name("instrument", instrument), canonical(timeframe)
        )

    def __str__(self) -> str:
        return f"{self.source}/{self.instrument}/{self.timeframe}"


def series_dir(root: Path, key: SeriesKey) -> Path:
    return root / OHLCV / key.source / key.instrument / key.timeframe


def month_path(root: Path, key: SeriesKey, year: int, month: int) -> Path:
    return series_dir(root, key) / f"{year:04d}" / f"{month:02d}.parquet"


def month_start_ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def month_of(ms: int) -> tuple[int, int]:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.year, moment.month


def month_bounds(year: int, month: int) -> tuple[int, int]:
    return month_start_ms(year, month), month_start_ms(*next_month(year, month))


def months_between(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """Calendar months (UTC) that intersect [start_ms, end_ms)."""
    if end_ms <= start_ms:
        return []
    months, current = [], month_of(start_ms)
    last = month_of(end_ms - 1)
    while current <= last:
        months.append(current)
        current = next_month(*current)
    return months


def existing_months(root: Path, key: SeriesKey) -> list[tuple[int, int]]:
    """Month files present on disk, sorted; temp files and strays are ignored."""
    base = series_dir(root, key)
    if not base.is_dir():
        return []
    found = []
    for year_dir in base.iterdir():
        if not (year_dir.is_dir() and YEAR_DIR_RE.match(year_dir.name)):
            continue
        for entry in year_dir.iterdir():
            match = MONTH_FILE_RE.match(entry.name)
            if match:
                found.append((int(year_dir.name), int(match.group(1))))
    return sorted(found)


def list_series(root: Path) -> list[SeriesKey]:
    """Every series folder that holds at least one month file or a coverage record."""
    base = root / OHLCV
    keys: list[SeriesKey] = []
    if not base.is_dir():
        return keys
    for source in sorted(p for p in base.iterdir() if p.is_dir() and NAME_RE.match(p.name)):
        for instrument in sorted(
            p for p in source.iterdir() if p.is_dir() and NAME_RE.match(p.name)
        ):
            for tf_dir in sorted(p for p in instrument.iterdir() if p.is_dir()):
                try:
                    key = SeriesKey.make(source.name, instrument.name, tf_dir.name)
                except ConfigError:
                    continue
                has_data = (tf_dir / COVERAGE_FILE).exists() or existing_months(root, key)
                if key.timeframe == tf_dir.name and has_data:
                    keys.append(key)
    return keys
