"""The lake side of fetching one range: batches of pages merged on a thread of their own.

A month merge (validation, parquet encode, two fsyncs, coverage) takes ~10 ms; done on
the fetching thread it stalls the feed's look-ahead, so with one or two Dukascopy workers
a year paid ~0.1 s of pure waiting. The writer merges the batches it is handed in that
order (data first, coverage second, as before), at most `depth` of them waiting. A merge
error stops the merges after it and is raised to the fetching thread at its next `put`,
or at `close` — which always waits for the batches handed over before it, so what was
fetched is in the lake whatever ends the fetch.
"""

from __future__ import annotations

import logging
import queue
import threading
from types import TracebackType

import pyarrow as pa

from barlake.errors import BarlakeError
from barlake.lake import intervals as iv
from barlake.lake.store import Lake
from barlake.sources.base import Page
from barlake.sync.plan import InstrumentPlan
from barlake.sync.report import InstrumentResult

log = logging.getLogger(__name__)


class Writer:
    def __init__(
        self, lake: Lake, plan: InstrumentPlan, result: InstrumentResult, depth: int = 2
    ) -> None:
        self.lake, self.plan, self.result = lake, plan, result
        self._batches: queue.Queue[list[Page] | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        name = f"lake-{plan.item.instrument}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, batch: list[Page]) -> None:
        """Hand a batch over (the caller may reuse its list); raises an earlier merge error."""
        self._raise()
        if batch:
            self._batches.put(list(batch))

    def close(self) -> None:
        """Wait for every batch handed over; raises a merge error."""
        if self._thread.is_alive():
            self._batches.put(None)
            self._thread.join()
        self._raise()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
            return
        try:  # the fetch failed: keep what was handed over, report the fetch's error
            self.close()
        except BarlakeError as error:
            log.error("%s: a merge failed too: %s", self.plan.item.instrument, error)

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self._error is not None:
                continue  # drain: nothing after a failed merge is written
            try:
                merge(self.lake, self.plan, batch, self.result)
            except BaseException as error:  # raised to the fetching thread
                self._error = error

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def merge(lake: Lake, plan: InstrumentPlan, batch: list[Page], result: InstrumentResult) -> None:
    """Merge one batch into the lake: its bars first, then the coverage it answers."""
    table = pa.concat_tables([page.bars for page in batch])
    covered = iv.normalize(page.answered for page in batch)
    written = lake.write_key(plan.key, table, covered=covered)
    result.bars += written.rows
    result.rejected += written.rejected_total
