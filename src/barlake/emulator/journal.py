"""The request log of one emulated server, for tests to assert what a client really sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One request: `status` 0 means the connection was dropped without an answer."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    status: int
    weight: int
    used_weight: int
    at_ms: int
    fault: str | None = None


@dataclass
class Journal:
    _entries: list[Entry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, path: str | None = None) -> list[Entry]:
        """A copy of the log, oldest first, optionally only paths starting with `path`."""
        with self._lock:
            return [e for e in self._entries if path is None or e.path.startswith(path)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
