"""The sync command's steps: check every input before the lake is touched, then plan, derive
or sync with live progress, and turn the results into tables and an exit code."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from barlake.cli.options import console
from barlake.cli.sync_view import LiveProgress, one_line, plan_table, summary_table, use_json_logs
from barlake.dates import to_range
from barlake.lake import Lake
from barlake.service import log_handler
from barlake.sources.registry import FeedFactory
from barlake.sources.retry import RetryPolicy
from barlake.sync import InstrumentResult, SyncOptions, Window, sync
from barlake.sync.session import check_timeframes, derive_only, load_rows, plan_all

out = console()
err = console(stderr=True)
log = logging.getLogger("barlake.sync")


@dataclass
class Request:
    config: Path
    start: str | None
    end: str | None
    only: str | None
    regex: str | None
    derive: tuple[str, ...]
    sleep_ms: int
    sleep_between: float
    workers: dict[str, int]
    fail_streak: int
    timeout: float
    archive: bool
    lake: Path | None
    keep_flats: bool = False


def run(request: Request, *, plan: bool, only_derive: bool, flags: Any) -> int:
    """0 only when every row was valid and every instrument synced."""
    if flags.log_json:
        use_json_logs()
    start, end = to_range(request.start, request.end)
    window = Window(start, end)
    check_timeframes(request.derive)
    rows = load_rows(request.config, request.only, request.regex)
    for problem in rows.errors + rows.warnings:
        err.print(problem, highlight=False, soft_wrap=True)
    lake = Lake(request.lake)
    factory = FeedFactory(
        RetryPolicy(fail_streak=request.fail_streak, pace_s=request.sleep_ms / 1000),
        timeout_s=request.timeout,
        use_archive=request.archive,
        duk_workers=request.workers.get("dukascopy", 2),
        duk_keep_flats=request.keep_flats,
    )
    if plan:
        out.print(plan_table(plan_all(lake, rows.items, window, factory)))
        return 1 if rows.errors else 0
    _log_to_lake(lake)
    if only_derive:
        results = derive_only(lake, rows.items, request.derive)
    else:
        options = SyncOptions(
            window, request.derive, request.workers, request.sleep_between, factory
        )
        live = not flags.quiet and not flags.log_json
        with LiveProgress(console(stderr=True), enabled=live) as progress:
            results = sync(lake, rows.items, options, progress)
    _report(results, len(rows.errors), flags)
    return 1 if rows.errors or not all(r.ok for r in results) else 0


def _report(results: list[InstrumentResult], file_errors: int, flags: Any) -> None:
    line = one_line(results, file_errors)
    for r in results:
        log.info("result %s", json.dumps(r.as_dict()))
    log.info("%s", line)
    if not flags.log_json:
        if not flags.quiet:
            out.print(summary_table(results))
        out.print(line, highlight=False)


def _log_to_lake(lake: Lake) -> None:
    """Keep a rotating INFO log under the lake (what the scheduled service writes to); the
    terminal still shows warnings only (see cli.main)."""
    handler = log_handler(lake.root)
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
