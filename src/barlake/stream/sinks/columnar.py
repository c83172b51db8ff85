"""Parquet / Feather sink: rolled part files per record kind under the `--out` folder.

Layout: ``<out>/<table>/part-<UTC start, YYYYmmddTHHMMSSfff>-<seq>.parquet`` (or
``.feather``), one folder per record kind (``ohlcv``, ``trades``, ``ticker``, ``orderbook``, or
the `--table` name). A flush rewrites the part being filled with all its rows (temp file,
fsync, ``os.replace``), so a reader or a crash sees the part before or after the flush, never
half of it. A part is closed and the next one started once it holds `roll_rows` rows or is
`roll_seconds` old, which bounds both the rewrite cost and the number of files.

Parts sort by name in the order they were written, and a key written twice (a backfill
overlapping a replay) may sit in two parts: `read_parts` reads a folder with the last row of
each key winning.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from barlake.errors import ConfigError
from barlake.lake.atomic import atomic_path, stale_temps
from barlake.stream.sinks.buffer import BufferedSink
from barlake.stream.sinks.rows import (
    SNAPSHOT_KINDS,
    Record,
    data_columns,
    dedup_last,
    key_for_columns,
    to_arrow,
)

EXTENSIONS = {"parquet": "parquet", "feather": "feather"}
ROLL_ROWS = 50_000
ROLL_SECONDS = 3600.0
_PART_RE = re.compile(r"^part-(\d{8}T\d{9})-(\d{6})\.(parquet|feather)$")


@dataclass
class _Part:
    path: Path
    started: float
    table: pa.Table | None = None  # every row the part holds (each flush rewrites them all)

    @property
    def rows(self) -> int:
        return 0 if self.table is None else self.table.num_rows


class ColumnarSink(BufferedSink):
    """Rolled Parquet or Feather parts (layout and guarantees in the module doc)."""

    def __init__(
        self,
        out: Path,
        tables: dict[str, str],
        *,
        fmt: str = "parquet",
        flush_every: int = 1,
        primary: str = "ohlcv",
        roll_rows: int = ROLL_ROWS,
        roll_seconds: float = ROLL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(flush_every)
        if fmt not in EXTENSIONS:
            raise ConfigError(f"bad columnar format {fmt!r}; use parquet or feather")
        if roll_rows < 1 or roll_seconds <= 0:
            raise ConfigError("roll_rows and roll_seconds must be positive")
        self.out, self.fmt, self.tables = Path(out), fmt, tables
        self.roll_rows, self.roll_seconds, self._clock = roll_rows, roll_seconds, clock
        self._parts: dict[str, _Part] = {}
        self._last: dict[str, tuple[str, int]] = {}
        self.folder(primary)  # a bad target fails now, not at the first bar

    def folder(self, kind: str) -> Path:
        """The kind's part folder, created and checked writable on first use."""
        path = self.out / self.tables[kind]
        if kind not in self._last:
            _check_folder(path)
            for stale in stale_temps(path):  # left by a writer killed mid-flush
                stale.unlink(missing_ok=True)
            self._last[kind] = _newest(path)
        return path

    def _write(self, batches: dict[str, list[Record]]) -> None:
        for kind, records in batches.items():
            part = self._part(kind)
            extra = data_columns(records) if kind in SNAPSHOT_KINDS else []
            table = to_arrow(kind, records, extra)
            if part.table is not None:
                table = pa.concat_tables([part.table, table], promote_options="default")
            with atomic_path(part.path) as tmp:
                if self.fmt == "parquet":
                    pq.write_table(table, tmp, compression="zstd")
                else:
                    feather.write_feather(table, tmp, compression="zstd")
            part.table = table

    def _part(self, kind: str) -> _Part:
        """The part being filled, or a new one once it is full or old."""
        now = self._clock()
        part = self._parts.get(kind)
        if part is None or part.rows >= self.roll_rows or now - part.started >= self.roll_seconds:
            part = self._parts[kind] = _Part(self._next_name(kind, now), now)
        return part

    def _next_name(self, kind: str, now: float) -> Path:
        """Names sort in write order, even across restarts or a clock stepping back."""
        folder = self.folder(kind)
        moment = datetime.fromtimestamp(now, tz=UTC)
        stamp = moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}"
        last_stamp, last_seq = self._last[kind]
        seq = last_seq + 1 if stamp <= last_stamp else 0
        stamp = max(stamp, last_stamp)
        self._last[kind] = (stamp, seq)
        return folder / f"part-{stamp}-{seq:06d}.{EXTENSIONS[self.fmt]}"


def _check_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot write parts under {path} ({exc.strerror}); pick a writable --out folder"
        ) from None


def _newest(folder: Path) -> tuple[str, int]:
    names = [m for p in folder.iterdir() if (m := _PART_RE.match(p.name))]
    if not names:
        return "", -1
    return max((m.group(1), int(m.group(2))) for m in names)


def part_files(folder: Path) -> list[Path]:
    """The finished part files of one kind's folder, oldest first."""
    if not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if _PART_RE.match(p.name))


def read_parts(folder: Path) -> pa.Table:
    """Every part of one kind's folder as one table: one row per key, the last written wins,
    sorted by the key. Reads Parquet and Feather parts alike."""
    tables = [
        pq.read_table(p) if p.suffix == ".parquet" else feather.read_table(p)
        for p in part_files(folder)
    ]
    if not tables:
        raise ConfigError(f"no part files under {folder}; check the --out folder and table name")
    table = pa.concat_tables(tables, promote_options="default")
    return dedup_last(table, key_for_columns(table.column_names))
