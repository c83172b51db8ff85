"""One `barlake sync` run as a library call: read the instruments file, then plan, sync or
only derive. Bad rows are reported and the good ones still run (exit code non-zero)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from barlake.errors import BarlakeError, ConfigError, SourceError
from barlake.instruments import Instrument, filter_instruments, load_instruments
from barlake.lake.store import Lake
from barlake.sources.registry import FeedFactory
from barlake.sync.plan import BASE, InstrumentPlan, Window, describe, plan_instrument
from barlake.sync.report import InstrumentResult
from barlake.sync.runner import SyncOptions, derive_timeframes, sync
from barlake.timeframes import parse_timeframe


@dataclass
class Rows:
    """The instruments to work on and the problems of the file they came from."""

    items: list[Instrument]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_rows(config: Path, only: str | None = None, regex: str | None = None) -> Rows:
    if not config.is_file():
        raise ConfigError(
            f"instruments file {config} not found; pass --config FILE or create it "
            "(`barlake universe binance --quote USDT --top 20 --out instruments.csv` writes one)"
        )
    found = load_instruments(config)
    items = filter_instruments(found.instruments, only, regex)
    if found.instruments and not items:
        raise ConfigError(f"no instrument in {config} matches --only/--filter")
    return Rows(items, list(found.errors), list(found.warnings))


def check_timeframes(timeframes: tuple[str, ...]) -> None:
    """Fail before the lake is touched: every derived timeframe must be longer than 1m."""
    for tf in timeframes:
        if parse_timeframe(tf) <= parse_timeframe(BASE):
            raise ConfigError(f"cannot derive {tf} from 1m: pick a longer timeframe such as 5m")


def plan_all(
    lake: Lake, items: list[Instrument], window: Window, factory: FeedFactory
) -> list[InstrumentPlan]:
    """Plans from coverage only: no request is made (a start is shown as 'from listing')."""
    now = factory.clock()
    plans = []
    for item in items:
        error, earliest = None, None
        try:
            earliest = factory.earliest(item, now)
        except ConfigError as problem:
            error = str(problem)
        plan = describe(lake, plan_instrument(lake, item, window, now, earliest))
        plan.error = error
        plans.append(plan)
    return plans


def derive_only(
    lake: Lake, items: list[Instrument], timeframes: tuple[str, ...]
) -> list[InstrumentResult]:
    """Rebuild derived timeframes from what the lake holds, without any network."""
    results = []
    for item in items:
        result = InstrumentResult(item)
        try:
            result.derived = derive_timeframes(lake, item, timeframes)
        except BarlakeError as error:
            result.error = str(error)
        results.append(result)
    return results


def sync_instrument(
    lake: Lake,
    config: Path,
    instrument: str,
    *,
    source: str | None,
    start_ms: int,
    timeframes: tuple[str, ...],
    factory: FeedFactory | None = None,
) -> InstrumentResult:
    """Bring one instrument of the file up to date from `start_ms` (for `analyze --sync`)."""
    rows = load_rows(config)
    items = [
        item
        for item in rows.items
        if item.instrument == instrument and (source is None or item.source == source)
    ]
    if len(items) != 1:
        found = (
            "no row" if not items else f"{len(items)} rows ({', '.join(i.source for i in items)})"
        )
        raise ConfigError(
            f"{config} has {found} for {instrument}{' in ' + source if source else ''}; "
            "name one row (add --source when several sources hold it)"
        )
    derived = tuple(tf for tf in timeframes if parse_timeframe(tf) > parse_timeframe(BASE))
    options = SyncOptions(Window(start_ms, None), derived, factory=factory or FeedFactory())
    [result] = sync(lake, items, options)
    if not result.ok:
        raise SourceError(f"sync failed: {result.error}")
    return result
