"""CSV sink: append-only files, one per record kind, written one whole batch at a time.

A flush renders its batch to text and hands it to one ``write`` on an ``O_APPEND`` descriptor,
then fsyncs, so a reader sees whole batches; if the write fails the file is cut back to where
it was. A crash can still leave a torn last line: opening the file cuts it off. A new file
starts with a header line; an existing one must have the kind's header.

CSV cannot rewrite a row, so repeats are skipped rather than overwritten, and this holds
across restarts:
- bars: a bar whose (symbol, timeframe, timestamp_ms) is already in the file is skipped (the
  file's keys are read once at open);
- trades: per symbol, trades stamped before the last stored one are skipped, and at the last
  stored millisecond only ids not yet stored are appended (a replay after a reconnect);
- snapshots: per (symbol, kind), only snapshots newer than the last stored one.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from barlake.errors import ConfigError
from barlake.lake.atomic import fsync_path
from barlake.stream.model import Bar, Snapshot, Trade
from barlake.stream.sinks.buffer import BufferedSink
from barlake.stream.sinks.rows import (
    SNAPSHOT_KINDS,
    Record,
    data_columns,
    last_per_key,
    rows_of,
    shape_of,
)

log = logging.getLogger(__name__)

_TAIL_CHUNK = 1 << 16
_KEY_TYPES = {"symbol": pa.string(), "timeframe": pa.string(), "kind": pa.string()}
_KEY_TYPES |= {"id": pa.string(), "timestamp_ms": pa.int64()}


def csv_paths(out: Path, tables: dict[str, str], primary: str) -> dict[str, Path]:
    """`out` ending in .csv is the stream's own file (other kinds beside it as
    ``<stem>.<table>.csv``); any other `out` is a folder of ``<table>.csv`` files."""
    out = Path(out)
    if out.suffix.lower() == ".csv":
        return {
            kind: out if kind == primary else out.with_name(f"{out.stem}.{table}.csv")
            for kind, table in tables.items()
        }
    return {kind: out / f"{table}.csv" for kind, table in tables.items()}


class CsvFile:
    """One append-only CSV of one record kind, with what it already holds for the dedup."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = Path(path), kind
        self.shape = shape_of(kind)
        self.columns: list[str] | None = None
        self._bar_keys: dict[tuple[str, str], set[int]] = {}
        self._marks: dict[tuple[str, ...], tuple[int, set[str]]] = {}
        self._warned: set[str] = set()
        self._fd = _open_append(self.path)
        try:
            self._repair()
            if self.columns is not None:
                self._load_keys()
        except BaseException:
            os.close(self._fd)
            raise

    def close(self) -> None:
        os.close(self._fd)

    # --- opening ----------------------------------------------------------------------------
    def _repair(self) -> None:
        """Cut a torn last line off, then read and check the header."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as fh:
            cut = _last_line_end(fh, size)
            if cut < size:
                log.warning(
                    "%s: cut a torn last line (%d bytes) left by a crash", self.path, size - cut
                )
                os.ftruncate(self._fd, cut)
                os.fsync(self._fd)
            if cut == 0:
                return
            fh.seek(0)
            header = next(csv.reader([fh.readline().decode()]))
        fixed = list(self.shape.columns)
        ok = header == fixed or (self.kind in SNAPSHOT_KINDS and header[: len(fixed)] == fixed)
        if not ok:
            raise ConfigError(
                f"{self.path} has columns ({', '.join(header)}), not the {self.kind} stream's "
                f"({', '.join(fixed)}); pick another --out"
            )
        self.columns = header

    def _load_keys(self) -> None:
        key = list(self.shape.key)
        options = pacsv.ConvertOptions(
            include_columns=key, column_types={name: _KEY_TYPES[name] for name in key}
        )
        try:
            table = pacsv.read_csv(self.path, convert_options=options)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ConfigError(
                f"{self.path} is not a readable {self.kind} CSV ({exc}); pick another --out"
            ) from None
        if self.kind == "ohlcv":
            for symbol, timeframe, ts in zip(
                *(table.column(n).to_pylist() for n in key), strict=True
            ):
                self._bar_keys.setdefault((symbol, timeframe), set()).add(ts)
            return
        group = [n for n in key if n not in ("timestamp_ms", "id")]
        last = table.group_by(group).aggregate([("timestamp_ms", "max")])
        at_last = table.join(last, group).filter(
            pc.equal(pc.field("timestamp_ms"), pc.field("timestamp_ms_max"))
        )
        ids = at_last.column("id").to_pylist() if "id" in key else [""] * at_last.num_rows
        groups = zip(*(at_last.column(n).to_pylist() for n in group), strict=True)
        for names, ts, trade_id in zip(
            groups, at_last.column("timestamp_ms").to_pylist(), ids, strict=True
        ):
            self._marks.setdefault(tuple(names), (ts, set()))[1].add(trade_id)

    # --- appending --------------------------------------------------------------------------
    def append(self, records: list[Record]) -> int:
        """Append the records not yet stored as one write + fsync; return how many."""
        fresh = self._fresh(last_per_key(records))
        if not fresh:
            return 0
        header = self.columns is None
        if self.columns is None:
            self.columns = [*self.shape.columns, *data_columns(fresh)]
        extra = self.columns[len(self.shape.columns) :]
        if self.kind in SNAPSHOT_KINDS:
            self._warn_dropped(data_columns(fresh, self.columns))
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        if header:
            writer.writerow(self.columns)
        writer.writerows(rows_of(self.kind, fresh, extra))
        _write_all(self._fd, text.getvalue().encode())
        self._remember(fresh)
        return len(fresh)

    def _fresh(self, records: list[Record]) -> list[Record]:
        if self.kind == "ohlcv":
            return [
                b
                for b in records
                if isinstance(b, Bar)
                and b.timestamp_ms not in self._bar_keys.get((b.symbol, b.timeframe), ())
            ]
        records = sorted(records, key=lambda r: r.timestamp_ms)
        out = []
        for record in records:
            mark = self._marks.get(_group(record))
            if mark is None or record.timestamp_ms > mark[0]:
                out.append(record)
            elif (
                record.timestamp_ms == mark[0]
                and isinstance(record, Trade)
                and record.id not in mark[1]
            ):
                out.append(record)
        return out

    def _remember(self, records: list[Record]) -> None:
        for record in records:
            if isinstance(record, Bar):
                self._bar_keys.setdefault((record.symbol, record.timeframe), set()).add(
                    record.timestamp_ms
                )
                continue
            group, ts = _group(record), record.timestamp_ms
            mark = self._marks.get(group)
            if mark is None or ts > mark[0]:
                self._marks[group] = mark = (ts, set())
            if ts == mark[0]:
                mark[1].add(record.id if isinstance(record, Trade) else "")

    def _warn_dropped(self, columns: list[str]) -> None:
        dropped = [c for c in columns[len(self.columns or ()) :] if c not in self._warned]
        if dropped:
            self._warned.update(dropped)
            log.warning(
                "%s: header has no column for %s; those values are not stored",
                self.path,
                ", ".join(dropped),
            )


def _group(record: Record) -> tuple[str, ...]:
    return (record.symbol, record.kind) if isinstance(record, Snapshot) else (record.symbol,)


def _open_append(path: Path) -> int:
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror}); pick a writable --out") from None
    if not existed:
        fsync_path(path.parent)  # the new name itself survives a crash
    return fd


def _last_line_end(fh: io.BufferedReader, size: int) -> int:
    """Offset just past the file's last newline (0 if it has none)."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        fh.seek(start)
        chunk = fh.read(end - start)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def _write_all(fd: int, data: bytes) -> None:
    """One write (looping only if the kernel takes less), fsync; on failure cut back."""
    size = os.fstat(fd).st_size
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        os.ftruncate(fd, size)
        raise


class CsvSink(BufferedSink):
    """CSV files for a stream (layout in `csv_paths`, dedup rules in the module doc)."""

    def __init__(
        self, out: Path, tables: dict[str, str], *, flush_every: int = 1, primary: str = "ohlcv"
    ) -> None:
        super().__init__(flush_every)
        self.paths = csv_paths(out, tables, primary)
        self._files: dict[str, CsvFile] = {}
        self.file(primary)  # a bad target fails now, not at the first bar

    def file(self, kind: str) -> CsvFile:
        found = self._files.get(kind)
        if found is None:
            found = self._files[kind] = CsvFile(self.paths[kind], kind)
        return found

    def _write(self, batches: dict[str, list[Record]]) -> None:
        for kind, records in batches.items():
            self.file(kind).append(records)

    def _release(self) -> None:
        for handle in self._files.values():
            handle.close()
