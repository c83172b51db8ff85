"""The buffering every sink shares: records wait per kind until `flush_every` are pending (or
`flush` is called); a failed write keeps them pending, so the next flush retries the batch."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from barlake.errors import ConfigError
from barlake.stream.model import Bar, Snapshot, Trade
from barlake.stream.sinks.rows import Record, shape_of


class BufferedSink:
    """Base of the sinks: subclasses write one flush's batches in `_write` and free the
    target in `_release`. Not thread-safe: one stream task owns a sink."""

    def __init__(self, flush_every: int) -> None:
        if flush_every < 1:
            raise ConfigError(f"bad flush_every {flush_every}: use 1 (every bar) or more")
        self.flush_every = flush_every
        self._pending: dict[str, list[Record]] = {}
        self._count = 0
        self._closed = False

    def write_bars(self, bars: Sequence[Bar]) -> None:
        self._add("ohlcv", bars)

    def write_trades(self, trades: Sequence[Trade]) -> None:
        self._add("trades", trades)

    def write_snapshots(self, snapshots: Sequence[Snapshot]) -> None:
        self._check_open()
        for snap in snapshots:
            shape_of(snap.kind)  # an unknown kind fails before anything is buffered
        for snap in snapshots:
            self._pending.setdefault(snap.kind, []).append(snap)
        self._added(len(snapshots))

    def _add(self, kind: str, records: Sequence[Record]) -> None:
        self._check_open()
        if records:
            self._pending.setdefault(kind, []).extend(records)
            self._added(len(records))

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigError(f"{type(self).__name__} is closed; open a new sink")

    def _added(self, count: int) -> None:
        self._count += count
        if self._count >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Make every pending record durable; on failure they stay pending and it raises."""
        batches = {kind: records for kind, records in self._pending.items() if records}
        if batches:
            self._write(batches)
        self._pending, self._count = {}, 0

    def close(self) -> None:
        """Flush and finish, then release the target even if that failed (the error raises)."""
        if self._closed:
            return
        try:
            self.flush()
            self._finish()
        finally:
            self._closed = True
            self._release()

    def __enter__(self) -> BufferedSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, batches: dict[str, list[Record]]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Work due once everything is flushed (the lake derives); nothing by default."""

    def _release(self) -> None:
        """Free files and connections; nothing by default."""
