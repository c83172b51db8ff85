"""Who works on what: an atomic claim per (study, slot or generation, session, attempt).

Workers claim a trial slot before running it, so two workers never run the same slot, and a
generation before sampling it, so it is sampled once. A claim is atomic: a line appended under
`flock` to a ledger in the run folder with the default journal storage (after checking nobody
holds it), a row in `barlake_claims` next to Optuna's tables with a database storage (workers
on several machines share it). A claim older than the
run's `claim_timeout` with nothing recorded belongs to a dead worker and is taken over with the
next attempt number. Claims are per session, so `resume` starts from a clean slate.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from barlake.optimize.journal import read_from

if TYPE_CHECKING:
    import sqlalchemy as sa


class Claims(Protocol):
    def take(self, study: str, key: str, session: str, worker: str, attempt: int = 0) -> bool:
        """True if this worker now holds the claim, False if someone else does."""
        ...

    def latest(self, study: str, key: str, session: str) -> tuple[int, float] | None:
        """(highest attempt, its age in seconds) of a claim, or None if unclaimed."""
        ...


class FileClaims:
    """Claims as lines of one append-only ledger, `claims.log` in the run folder, appended
    under `flock` after reading what others appended: one locked append per claim, since
    creating a file per claim costs more than a whole backtest on some file systems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._offset = 0
        self._known: dict[tuple[str, str, str], tuple[int, float]] = {}

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        return self._fd

    def _sync(self, fd: int) -> bool:
        """Fold the complete lines appended since the last look into `_known`; True if that
        reached the end of the ledger (no line is being written)."""
        data = read_from(fd, self._offset)
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            self._fold(*json.loads(line))
        self._offset += end
        return end == len(data)

    def _fold(self, study: str, key: str, session: str, attempt: int, _w: str, at: float) -> None:
        known = self._known.get((study, key, session))
        if known is None or attempt > known[0]:
            self._known[(study, key, session)] = (attempt, at)

    def take(self, study: str, key: str, session: str, worker: str, attempt: int = 0) -> bool:
        known = self._known.get((study, key, session))
        if known is not None and known[0] >= attempt:
            return False  # attempts only grow: a claim seen once is still held
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            at_end = self._sync(fd)
            known = self._known.get((study, key, session))
            if known is not None and known[0] >= attempt:
                return False
            at = time.time()
            line = (json.dumps([study, key, session, attempt, worker, at]) + "\n").encode()
            if os.write(fd, line) == len(line) and at_end:  # it follows what was read: fold it
                self._fold(study, key, session, attempt, worker, at)
                self._offset += len(line)
            return True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def latest(self, study: str, key: str, session: str) -> tuple[int, float] | None:
        self._sync(self._open())
        known = self._known.get((study, key, session))
        return None if known is None else (known[0], time.time() - known[1])

    def __del__(self, close: Callable[[int], None] = os.close) -> None:
        """(`close` bound early, as in `JournalFile`: a worker's ledger may be collected at
        interpreter exit, after `os`.)"""
        fd = getattr(self, "_fd", None)
        if fd is not None:
            close(fd)


@functools.cache
def claims_table() -> sa.Table:
    """The `barlake_claims` table (SQLAlchemy is imported only by runs on a database)."""
    import sqlalchemy as sa

    return sa.Table(
        "barlake_claims",
        sa.MetaData(),
        sa.Column("study", sa.String(512), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("session", sa.String(64), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("worker", sa.String(256), nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=False),
    )


class SqlClaims:
    """Claims as rows of `barlake_claims`; the primary key makes an insert the atomic claim."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self.engine = sa.create_engine(url, pool_pre_ping=True)
        self.table = claims_table()

    def create_table(self) -> None:
        """Once per run, before any worker starts (two concurrent CREATEs could collide)."""
        self.table.metadata.create_all(self.engine, checkfirst=True)

    def take(self, study: str, key: str, session: str, worker: str, attempt: int = 0) -> bool:
        from sqlalchemy.exc import IntegrityError

        row = {"study": study, "key": key, "session": session, "attempt": attempt}
        row |= {"worker": worker, "claimed_at": time.time()}
        try:
            with self.engine.begin() as conn:
                conn.execute(self.table.insert().values(**row))
        except IntegrityError:
            return False
        return True

    def latest(self, study: str, key: str, session: str) -> tuple[int, float] | None:
        import sqlalchemy as sa

        t = self.table.c
        query = (
            sa.select(t.attempt, t.claimed_at)
            .where(t.study == study, t.key == key, t.session == session)
            .order_by(t.attempt.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (int(row[0]), time.time() - float(row[1]))


def open_claims(url: str | None, ledger: Path) -> Claims:
    """The ledger next to the journal, SQL claims next to a database storage."""
    return FileClaims(ledger) if url is None else SqlClaims(url)
