"""plan → fetch → validate → merge, per instrument, on a pool of worker threads.

Each instrument is one task: resolve its window, fetch the missing ranges page by page,
merge them into the lake in month-sized batches (data first, coverage second, so a kill
at any moment costs at most a refetch), then derive the longer timeframes. A failing
instrument is reported and the others carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from barlake.bars.derive import derive
from barlake.errors import BarlakeError
from barlake.instruments import Instrument
from barlake.lake import intervals as iv
from barlake.lake.layout import month_of
from barlake.lake.store import Lake
from barlake.sources.base import Feed, Page
from barlake.sources.registry import FeedFactory
from barlake.sync.plan import BASE, InstrumentPlan, Window, plan_instrument
from barlake.sync.report import InstrumentResult
from barlake.sync.writer import Writer
from barlake.timeframes import MINUTE_MS

FLUSH_ROWS = 50_000
log = logging.getLogger(__name__)


@dataclass
class SyncOptions:
    window: Window = field(default_factory=lambda: Window(None, None))
    derive: tuple[str, ...] = ("5m", "1h", "4h")
    workers: dict[str, int] = field(default_factory=lambda: {"ccxt": 2, "dukascopy": 2})
    sleep_between_s: float = 0.0
    factory: FeedFactory = field(default_factory=FeedFactory)
    stop: threading.Event = field(default_factory=threading.Event)  # set on Ctrl+C


class Stopped(BarlakeError):
    """The run was interrupted; what was fetched so far is in the lake. Run again to finish."""


class Progress:
    """Callbacks a front end implements; every method may be called from worker threads."""

    def started(self, item: Instrument, plan: InstrumentPlan) -> None: ...
    def advanced(self, item: Instrument, page: Page) -> None: ...
    def finished(self, result: InstrumentResult) -> None: ...


def sync(
    lake: Lake, items: list[Instrument], options: SyncOptions, progress: Progress | None = None
) -> list[InstrumentResult]:
    """Sync every instrument; results in input order (failures included, never raised)."""
    progress = progress or Progress()
    pools = {
        backend: ThreadPoolExecutor(max(1, options.workers.get(backend, 1)), f"sync-{backend}")
        for backend in {item.backend for item in items}
    }
    try:
        futures = [
            pools[item.backend].submit(_one, lake, item, options, progress) for item in items
        ]
        return [future.result() for future in futures]
    finally:  # on Ctrl+C: workers stop after their current page, pending ones never start
        options.stop.set()
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)


def _one(
    lake: Lake, item: Instrument, options: SyncOptions, progress: Progress
) -> InstrumentResult:
    result = InstrumentResult(item)
    started = time.monotonic()
    try:
        feed = options.factory.feed(item)
        plan = _resolve(lake, item, feed, options.window, options.factory.clock())
        result.planned_bars = plan.missing_bars
        result.beyond_retention = plan.beyond_retention
        progress.started(item, plan)
        for lo, hi in plan.missing:
            _fetch_range(lake, plan, feed, (lo, hi), result, options.stop, progress)
        result.requests = getattr(feed, "requests", 0)
        if plan.missing:
            lo, hi = plan.missing[0][0], plan.missing[-1][1]
            result.still_missing = iv.total(lake.missing(plan.key, lo, hi)) // MINUTE_MS
        result.derived = derive_timeframes(lake, item, options.derive)
    except BarlakeError as error:
        result.error = str(error)
        log.error("%s", error)
    result.seconds = time.monotonic() - started
    progress.finished(result)
    if options.sleep_between_s:
        time.sleep(options.sleep_between_s)
    return result


def _resolve(lake: Lake, item: Instrument, feed: Feed, window: Window, now: int) -> InstrumentPlan:
    """The plan, with the start found from the venue when nothing says where to begin."""
    earliest = feed.earliest(now)
    plan = plan_instrument(lake, item, window, now, earliest)
    if plan.start is None:
        first = earliest if earliest is not None else feed.listing()
        plan = plan_instrument(lake, item, window, now, earliest, listing=first)
    return plan


def _fetch_range(
    lake: Lake,
    plan: InstrumentPlan,
    feed: Feed,
    span: tuple[int, int],
    result: InstrumentResult,
    stop: threading.Event,
    progress: Progress,
) -> None:
    """Fetch one missing range, handing month batches to a `Writer` that merges them while
    the next pages load; returns (or raises) once what was handed over is in the lake."""
    with Writer(lake, plan, result) as writer:
        batch: list[Page] = []
        rows, month = 0, (0, 0)
        for page in feed.fetch(*span):
            if stop.is_set():
                writer.put(batch)
                writer.close()
                raise Stopped(f"{plan.item.instrument}: stopped; run the sync again to finish")
            page_month = month_of(page.answered[0])
            if batch and (page_month != month or rows >= FLUSH_ROWS):
                writer.put(batch)
                batch, rows = [], 0
            batch.append(page)
            rows, month = rows + page.bars.num_rows, page_month
            result.via[page.via] = result.via.get(page.via, 0) + page.bars.num_rows
            progress.advanced(plan.item, page)
        writer.put(batch)


def derive_timeframes(lake: Lake, item: Instrument, timeframes: tuple[str, ...]) -> dict[str, int]:
    """Bring the instrument's derived series up to date (bars written per timeframe)."""
    if not timeframes or not lake.months(lake.key(item.source, item.instrument, BASE)):
        return {}
    return {tf: derive(lake, item.source, item.instrument, tf).bars for tf in timeframes}
