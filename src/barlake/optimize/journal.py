"""The default storage: Optuna's journal file format in the run folder, written so that several
worker processes never wait on "database is locked" and a trial costs one short append.

Optuna's own `JournalFileBackend` takes a symlink lock that sleeps with exponential back-off
when another process holds it, and fsyncs every write; with millisecond backtests that is most
of a trial's time. This backend writes the same lines (so `optuna-dashboard FILE` and
`JournalFileBackend` read the file unchanged) with one `write` on an O_APPEND descriptor under
`flock`, which the kernel hands over without sleeping. It flushes to the OS but does not
fsync: a killed worker loses nothing; a power cut may lose the last trials written.
Workers and the status watcher read and write the file through `studylog.StudyLog`, which
spares them Optuna's replay; the session's studies and the report go through `JournalStorage`.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import orjson
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import BaseJournalBackend

JOURNAL_FILE = "optuna.journal"
READ_CHUNK = 1 << 20


class JournalFile(BaseJournalBackend):
    """Append-only JSON lines; readers skip a last line that is still being written. Both
    descriptors stay open: opening a file costs more than the append itself."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        with open(self.path, "ab"):
            pass
        self._next = (0, 0)  # (log number, byte offset) just after the last complete line read
        self._reader: int | None = None
        self._writer: int | None = None

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        for line in self.read_lines(log_number_from):
            yield json.loads(line)

    def read_lines(self, log_number_from: int) -> Iterator[bytes]:
        """The complete lines after the first `log_number_from`, as written."""
        number, offset = self._next if log_number_from >= self._next[0] else (0, 0)
        if self._reader is None:
            self._reader = os.open(self.path, os.O_RDONLY)
        data = read_from(self._reader, offset)
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            number, offset = number + 1, offset + len(line)
            if number > self._next[0]:
                self._next = (number, offset)
            if number > log_number_from:
                yield line

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self.append_lines(encode(logs))

    def append_lines(self, data: bytes) -> None:
        """Whole lines in one locked write."""
        if self._writer is None:
            self._writer = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        fcntl.flock(self._writer, fcntl.LOCK_EX)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._writer, view) :]
        finally:
            fcntl.flock(self._writer, fcntl.LOCK_UN)

    def __del__(self, close: Callable[[int], None] = os.close) -> None:
        """(`close` bound early: a file collected at interpreter exit outlives `os`.)"""
        for fd in (getattr(self, "_reader", None), getattr(self, "_writer", None)):
            if fd is not None:
                close(fd)


def encode(logs: list[dict[str, Any]]) -> bytes:
    """Journal lines, one compact JSON object each, as Optuna writes them (NaN and the
    infinities as NaN, Infinity, -Infinity)."""
    return "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()


def encode_line(log: dict[str, Any]) -> bytes:
    """One line, by orjson: ten times faster than `json.dumps`, and the same values for what
    holds only finite numbers, strings, lists and dicts with string keys (orjson writes a NaN
    as null); json's path is kept for what orjson refuses, such as integer keys."""
    try:
        return orjson.dumps(log) + b"\n"
    except TypeError:
        return encode([log])


def decode_line(line: bytes) -> dict[str, Any]:
    """One line, by orjson; by json when orjson refuses it (NaN or Infinity, which json and
    Optuna write). The values are json's but for integers beyond 64 bits, which orjson reads
    as floats: fine for a worker's records, not for any log (`read_logs` keeps json)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def read_from(fd: int, offset: int) -> bytes:
    """Everything from `offset` to the current end of the file: one read, unless that is
    larger than a chunk (a short read of a regular file is its end)."""
    chunks = []
    while True:
        chunk = os.pread(fd, READ_CHUNK, offset)
        chunks.append(chunk)
        if len(chunk) < READ_CHUNK:
            return b"".join(chunks)
        offset += len(chunk)


def open_storage(url: str | None, run_dir: Path) -> BaseStorage | str:
    """The run's storage: the journal file in the run folder, or a database URL (Optuna caches
    an RDB storage opened from its URL, which keeps polling cheap)."""
    if url is None:
        return JournalStorage(JournalFile(run_dir / JOURNAL_FILE))
    return url


def quiet_optuna() -> None:
    """Optuna logs every study it creates or loads at INFO; a run opens dozens."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
