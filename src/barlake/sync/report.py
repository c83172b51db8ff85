"""The outcome of syncing one instrument, as the summary table and `--log-json` show it."""

from __future__ import annotations

from dataclasses import dataclass, field

from barlake.instruments import Instrument
from barlake.lake import intervals as iv
from barlake.timeframes import MINUTE_MS


@dataclass
class InstrumentResult:
    item: Instrument
    bars: int = 0  # 1m bars merged into the lake
    planned_bars: int = 0  # minutes that were missing when the sync began
    rejected: int = 0  # rows refused by validation (shown as missing, fetched again next time)
    requests: int = 0
    seconds: float = 0.0
    via: dict[str, int] = field(default_factory=dict)  # bars per path: rest / archive-month / …
    derived: dict[str, int] = field(default_factory=dict)
    beyond_retention: iv.Intervals = field(default_factory=list)
    still_missing: int = 0  # minutes the venue did not answer (e.g. empty trading hours)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, object]:
        return {
            "instrument": self.item.instrument,
            "source": self.item.source,
            "ok": self.ok,
            "bars": self.bars,
            "planned_bars": self.planned_bars,
            "rejected": self.rejected,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "via": self.via,
            "derived": self.derived,
            "beyond_retention_bars": iv.total(self.beyond_retention) // MINUTE_MS,
            "still_missing_bars": self.still_missing,
            "error": self.error,
        }
