"""The typed records: one Instrument per good row, the InstrumentSet a file yields, and filtering."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from barlake.errors import ConfigError
from barlake.instruments.cells import normalise, parse_cells, source_name
from barlake.timeframes import DAY_MS

Backend = Literal["ccxt", "dukascopy"]
Market = Literal["spot", "swap", "future"]
Price = Literal["last", "mark", "index"]
Side = Literal["bid", "ask", "mid"]
Transport = Literal["json", "bi5"]

_DEFAULTS = {"market": "spot", "price": "last", "side": "bid", "transport": "json"}


@dataclass(frozen=True)
class Instrument:
    """One validated row; `line` is where it sits in its file (0 when built in code)."""

    instrument: str
    backend: Backend
    data_symbol: str
    exchange: str | None = None
    market: Market = "spot"
    price: Price = "last"
    price_scale: float | None = None  # Dukascopy point factor; None = the built-in table's
    start_ms: int | None = None
    base_url: str | None = None
    archive_url: str | None = None
    side: Side = "bid"
    transport: Transport = "json"
    line: int = field(default=0, compare=False)

    @property
    def source(self) -> str:
        """The lake's source folder: `dukascopy`, or the ccxt id plus `_<market>` unless spot."""
        if self.backend == "dukascopy" or self.exchange is None:
            return "dukascopy"
        return source_name(self.exchange, self.market)

    @property
    def key(self) -> tuple[str, str]:
        """(source, instrument): what identifies a series in the lake and a row in the file."""
        return self.source, self.instrument

    @classmethod
    def from_row(cls, cells: Mapping[str, str | None], *, line: int = 0) -> Instrument:
        """Build from column → text cells (blank = default); ConfigError lists every problem."""
        values, problems = parse_cells(normalise(cells))
        if values is None:
            listed = "; ".join(f"column {column}: {message}" for column, message in problems)
            raise ConfigError(f"instrument {cells.get('instrument') or '?'!r}: {listed}")
        return cls(line=line, **values)  # type: ignore[arg-type]

    def to_row(self) -> dict[str, str]:
        """The cells instruments.csv needs to hold this record; defaults are left out."""
        cells = {
            "instrument": self.instrument,
            "backend": self.backend,
            "data_symbol": self.data_symbol,
            "exchange": self.exchange or "",
            "base_url": self.base_url or "",
            "archive_url": self.archive_url or "",
        }
        if self.price_scale is not None:
            scale = self.price_scale
            cells["price_scale"] = str(int(scale)) if scale.is_integer() else repr(scale)
        if self.start_ms is not None:
            cells["start"] = _start_text(self.start_ms)
        cells |= {name: getattr(self, name) for name in _DEFAULTS}
        return {name: text for name, text in cells.items() if text and text != _DEFAULTS.get(name)}


def _start_text(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % DAY_MS == 0:
        return moment.strftime("%Y-%m-%d")
    spec = "milliseconds" if ms % 1000 else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@dataclass(frozen=True)
class InstrumentSet:
    """What a file holds: the good rows, one message per bad cell, notes on unknown columns."""

    path: Path
    instruments: list[Instrument] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was good (warnings do not count)."""
        return not self.errors

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.instruments)

    def __len__(self) -> int:
        return len(self.instruments)


def filter_instruments(
    items: Iterable[Instrument], only: str | None = None, regex: str | None = None
) -> list[Instrument]:
    """`--only ccxt|dukascopy` keeps one backend; `--filter REGEX` keeps the instruments whose
    name (the user's, e.g. EURUSD) it matches anywhere (`re.search`, case-sensitive)."""
    backend = (only or "").strip().lower() or None
    if backend not in (None, "ccxt", "dukascopy"):
        raise ConfigError(f"bad --only {only!r}: use ccxt or dukascopy")
    pattern = None
    if regex:
        try:
            pattern = re.compile(regex)
        except re.error as exc:
            raise ConfigError(
                f"bad --filter regex {regex!r}: {exc}; e.g. '^(EUR|USD)' or 'USDT$'"
            ) from None
    return [
        item
        for item in items
        if (backend is None or item.backend == backend)
        and (pattern is None or pattern.search(item.instrument))
    ]
