"""The coverage sidecar: which ranges of a series were asked of a source and answered.

Bars prove presence; coverage proves that a range was looked at. "Known empty" is derived,
not stored: answered ranges minus the windows of the bars present.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from barlake.errors import CorruptFileError
from barlake.lake import intervals as iv
from barlake.lake.atomic import write_bytes_atomic

VERSION = 1


@dataclass
class Coverage:
    """Answered intervals in epoch ms, normalised; `notes` holds per-source extras."""

    answered: iv.Intervals = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)

    def add(self, spans: iv.Intervals) -> Coverage:
        return Coverage(iv.union(self.answered, spans), dict(self.notes))

    def drop(self, spans: iv.Intervals) -> Coverage:
        return Coverage(iv.subtract(self.answered, spans), dict(self.notes))

    def missing(self, start: int, end: int) -> iv.Intervals:
        """What of [start, end) nobody has asked a source for yet."""
        return iv.subtract([(start, end)], self.answered)


def load(path: Path) -> Coverage:
    if not path.exists():
        return Coverage()
    try:
        raw = json.loads(path.read_text())
        answered = [(int(s), int(e)) for s, e in raw.get("answered", [])]
        return Coverage(iv.normalize(answered), dict(raw.get("notes", {})))
    except (ValueError, TypeError, AttributeError) as exc:
        raise CorruptFileError(
            f"coverage file {path} is unreadable ({exc}); run `barlake verify --repair`"
        ) from exc


def save(path: Path, coverage: Coverage) -> None:
    """Atomic like month files: a crash leaves the old record, never half a JSON."""
    body = {"version": VERSION, "answered": [list(span) for span in coverage.answered]}
    if coverage.notes:
        body["notes"] = coverage.notes
    write_bytes_atomic(path, json.dumps(body, separators=(",", ":")).encode())


def remove(path: Path) -> None:
    if path.exists():
        os.remove(path)
