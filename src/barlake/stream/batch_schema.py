"""jobs.yaml → validated batch tasks, with every problem found before anything runs.

A jobs file holds `defaults` (keys every task inherits; a task's own key wins, `~` unsets one)
and `tasks`: a mapping of task name → keys, or a list of mappings that each carry a `name`.
English keys are canonical; the French keys of the original brief (`symbole`, `date_debut`,
`sortie`, ...) are aliases, so an existing file runs unchanged. Each problem names its task and
the key as the file spells it; all of them are reported together and nothing runs until there
are none. Relative paths (`out`, `lake`) are read from the jobs file's folder, so the file runs
the same from anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import ccxt

from barlake.dates import fmt_ms
from barlake.errors import ConfigError
from barlake.instruments import Instrument
from barlake.instruments.cells import did_you_mean, parse_cells
from barlake.lake.store import resolve_lake
from barlake.stream import batch_keys as bk
from barlake.stream.batch_keys import BatchFileError, Problem
from barlake.stream.model import FORMATS as STREAM_FORMATS
from barlake.stream.model import MARKETS as STREAM_MARKETS
from barlake.stream.model import StreamConfig
from barlake.stream.sinks.lake import lake_instrument

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".feather": "feather"}
SUFFIXES |= {".arrow": "feather", ".sqlite": "sqlite", ".sqlite3": "sqlite", ".db": "sqlite"}
# parse_cells speaks instruments.csv columns; a problem is shown on the task key it came from
COLUMN_KEYS = {"instrument": "symbol", "data_symbol": "symbol", "price_scale": "symbol"}


@dataclass(frozen=True)
class RestTask:
    """A historical download: [start, end) 1m bars into the lake, `timeframe` derived from them,
    then that range exported to `out` when the task names a file."""

    mode: ClassVar[str] = "rest"
    name: str
    items: tuple[Instrument, ...]
    start_ms: int
    end_ms: int | None  # None: up to the last closed minute
    timeframe: str
    lake: Path | None
    out: Path | None  # None: the lake only
    format: str
    table: str = "ohlcv"

    def out_for(self, item: Instrument) -> Path | None:
        """The export file of one symbol (`{symbol}` in `out` becomes its lake name)."""
        return (
            None if self.out is None else Path(str(self.out).replace("{symbol}", item.instrument))
        )

    def table_for(self, item: Instrument) -> str:
        return self.table.replace("{symbol}", item.instrument)


@dataclass(frozen=True)
class StreamTask:
    """A live stream, run by `barlake.stream.runner.run_stream`; `items` name its lake series."""

    mode: ClassVar[str] = "stream"
    name: str
    config: StreamConfig
    items: tuple[Instrument, ...] = ()


Task = RestTask | StreamTask


@dataclass(frozen=True)
class Batch:
    """The selected tasks in file order; `after[name]` are the earlier tasks writing where it
    writes, which it waits for (the others run at the same time)."""

    path: Path
    tasks: tuple[Task, ...]
    after: Mapping[str, tuple[str, ...]]


def load_batch(path: Path, *, only: Sequence[str] | None = None, lake: Path | None = None) -> Batch:
    """Read and check a jobs file; `only` names the tasks to run (all when None), `lake` is the
    lake of tasks that do not name one. Raises BatchFileError listing every problem."""
    path = Path(path)
    data = bk.read_yaml(path)
    problems: list[Problem] = []
    defaults_raw, tasks_raw = bk.top_level(data, problems)
    defaults = bk.read_keys(defaults_raw, "defaults", problems)
    named = bk.select(bk.named_tasks(tasks_raw, problems), only, problems)
    tasks = []
    for name, raw in named:
        own = bk.read_keys(raw, f"task {name!r}", problems)
        checker = _Checker(name, defaults.merged(own), frozenset(own.spelled), problems)
        task = _build(checker, path.parent, lake)
        if task is not None:
            tasks.append(task)
    after = _order(tasks, problems)
    if problems:
        raise BatchFileError(path, problems)
    return Batch(path, tuple(tasks), after)


@dataclass
class _Checker:
    """One task's merged keys while it is checked; its problems go to the shared list."""

    name: str
    keys: bk.Keys
    own: frozenset[str]
    problems: list[Problem]
    failed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.failed = bool(self.keys.bad)

    def get(self, key: str, default: Any = None) -> Any:
        value = self.keys.values.get(key)
        return default if value is None else value

    def fail(self, key: str | None, message: str) -> None:
        self.failed = True
        inherited = key is not None and key in self.keys.spelled and key not in self.own
        spelled = None if key is None else self.keys.spelled.get(key, key)
        problem = Problem(
            f"task {self.name!r}", spelled, message + (" (from defaults)" * inherited)
        )
        if problem not in self.problems:
            self.problems.append(problem)

    def require(self, key: str, hint: str) -> Any:
        value = self.get(key)
        if value is None and key not in self.keys.bad:
            self.fail(key, f"missing; {hint}")
        return value

    def path(self, key: str, base: Path) -> Path | None:
        value: Path | None = self.get(key)
        if value is None:
            return None
        return value if value.is_absolute() else Path(os.path.normpath(base / value))


def _build(t: _Checker, base: Path, lake: Path | None) -> Task | None:
    mode = t.require("mode", "use rest (a historical download) or stream (live data)")
    if mode is None:
        _instruments(t, t.get("market", "spot"), rest=False)  # still report the common keys
        return None
    for key in sorted(t.own):
        if mode not in bk.KEYS[key].modes:
            other = next(iter(bk.KEYS[key].modes))
            t.fail(key, f"is for {other} tasks only; remove it or set mode: {other}")
    task = _rest(t, base, lake) if mode == "rest" else _stream(t, base, lake)
    return None if t.failed or task is None else task


def _rest(t: _Checker, base: Path, lake: Path | None) -> RestTask | None:
    start = t.require("start", "give the first day to download, e.g. start: 2024-01-01")
    end = t.get("end")
    if start is not None and end is not None and start >= end:
        t.fail(
            "end", f"{fmt_ms(end)} is not after start {fmt_ms(start)}; the range is [start, end)"
        )
    items = _instruments(t, t.get("market", "spot"), rest=True)
    fmt, out = _target(t, base, bk.FILE_FORMATS, needs_out=False)
    table = t.get("table", "ohlcv")
    several = len(items) > 1 and out is not None
    if several and "{symbol}" not in str(out) and not (fmt == "sqlite" and "{symbol}" in table):
        t.fail("out", f"{len(items)} symbols would share one file; put {{symbol}} in it, "
                      "e.g. exports/{symbol}_1h.csv (or in table, for sqlite)")  # fmt: skip
    if start is None or fmt is None:
        return None
    task_lake = t.path("lake", base) or lake
    timeframe = t.get("timeframe", "1m")
    return RestTask(t.name, tuple(items), start, end, timeframe, task_lake, out, fmt, table)


def _stream(t: _Checker, base: Path, lake: Path | None) -> StreamTask | None:
    market = t.get("market", "spot")
    if market not in STREAM_MARKETS:
        t.fail("market", f"{market} is not streamed; use {' or '.join(STREAM_MARKETS)}")
    if t.get("exchange") == "dukascopy":
        t.fail("exchange", "dukascopy has no live stream; use mode: rest for its history")
        return None
    items = _instruments(t, market, rest=False)
    fmt, out = _target(t, base, STREAM_FORMATS, needs_out=True)
    kind, to_bars = t.get("stream", "ohlcv"), bool(t.get("trades_to_ohlcv", False))
    if to_bars and kind not in ("ohlcv", "trades"):
        t.fail("trades_to_ohlcv", f"builds bars from trades; it does not apply to stream {kind}")
    if fmt == "lake" and kind != "ohlcv" and not to_bars:
        t.fail("format", f"the lake holds bars only; stream {kind} into a file instead")
    if fmt == "lake" and t.get("timeframe", "1m") != "1m":
        t.fail("timeframe", "the lake takes 1m bars from a stream (longer ones are derived)")
    for key in ("out", "table"):
        if "{symbol}" in str(t.get(key, "")):
            t.fail(key, "{symbol} is for rest tasks: a stream writes all its symbols together")
    if fmt is None or not items:
        return None
    config = StreamConfig(
        t.get("exchange"), tuple(i.data_symbol for i in items), kind, market,
        t.get("timeframe", "1m"), to_bars, t.get("duration"), fmt, out, t.get("table"),
        t.get("flush", 1), t.get("base_url"), t.get("ws_url"), t.path("lake", base) or lake,
        t.get("depth", 10),
    )  # fmt: skip
    return StreamTask(t.name, config, tuple(items))


def _target(
    t: _Checker, base: Path, allowed: tuple[str, ...], *, needs_out: bool
) -> tuple[str | None, Path | None]:
    """(format, out file): the format from `format` or the file's extension; "lake" alone."""
    fmt, out = t.get("format"), t.path("out", base)
    names = "|".join((*allowed, "lake") if "lake" not in allowed else allowed)
    if "format" in t.keys.bad or "out" in t.keys.bad:
        return None, None
    if out is None:
        if fmt == "lake" or (fmt is None and not needs_out):
            return "lake", None
        if fmt is None:
            t.fail("out", "missing; give the file to write (or format: lake)")
        else:
            t.fail("out", f"missing; format {fmt} needs a file, e.g. out: exports/btc.{fmt}")
        return None, None
    guessed = SUFFIXES.get(out.suffix.lower())
    if fmt is None and guessed is None:
        t.fail("out", f"cannot tell the format of {out.name!r}; add format: {names}")
    elif fmt == "lake":
        t.fail("out", "format lake writes into the lake; remove out or pick a file format")
    elif fmt is not None and fmt not in allowed:
        t.fail("format", f"{fmt} is not written by {t.get('mode')} tasks; use {names}")
    elif fmt and guessed and fmt != guessed and (fmt, guessed) != ("backtrader", "parquet"):
        t.fail("out", f"ends in {out.suffix} but format is {fmt}; make them agree")
    else:
        return fmt or guessed, out
    return None, None


def _instruments(t: _Checker, market: str, *, rest: bool) -> list[Instrument]:
    """The task's symbols as instrument records, checked as instruments.csv rows are."""
    exchange = t.require("exchange", "give the ccxt exchange id, e.g. exchange: binance")
    symbols = t.require("symbol", "give the symbol, e.g. symbol: BTC/USDT")
    known = exchange is not None and _known_exchange(t, exchange)
    if not known or symbols is None:
        return []
    items: list[Instrument] = []
    for symbol in symbols:
        cells = _cells(t, exchange, _settled(t, symbol, market, exchange), market, rest)
        values, problems = parse_cells(cells)
        for column, message in problems:
            t.fail(COLUMN_KEYS.get(column, column), f"{symbol}: {message}")
        if values is not None:
            items.append(Instrument(**values))  # type: ignore[arg-type]
    if len({item.key for item in items}) < len(items):
        t.fail("symbol", "lists one symbol twice; keep one")
    return items


def _known_exchange(t: _Checker, exchange: str) -> bool:
    if exchange == "dukascopy" or exchange in ccxt.exchanges:
        return True
    hint = did_you_mean(exchange, [*ccxt.exchanges, "dukascopy"])
    t.fail("exchange", f"{exchange!r} is not a ccxt exchange id nor dukascopy; {hint}")
    return False


def _settled(t: _Checker, symbol: str, market: str, exchange: str) -> str:
    """A contract symbol with its settle currency: the quote when linear (the default), the base
    when inverse, as ccxt spells it (BTC/USDT → BTC/USDT:USDT, inverse BTC/USD → BTC/USD:BTC)."""
    subtype = t.get("subtype")
    if market == "spot" or exchange == "dukascopy":
        if subtype:
            t.fail("subtype", f"{subtype} is for swap and future markets; remove it")
        return symbol
    coin, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    if not quote:
        return symbol  # parse_cells explains the symbol's form
    wanted = coin if subtype == "inverse" else quote
    if not settle:
        return f"{symbol}:{wanted}"
    if subtype and settle != wanted:
        kind = "inverse" if settle == coin else "linear"
        t.fail("subtype", f"{symbol} settles in {settle}, so it is {kind}, not {subtype}")
    return symbol


def _cells(t: _Checker, exchange: str, symbol: str, market: str, rest: bool) -> dict[str, str]:
    """The instruments.csv row the task's keys describe (only the cells it sets)."""
    duka = exchange == "dukascopy"
    price = t.get("price") if rest else None
    name = symbol if duka else _lake_name(symbol)
    if price and price != "last":  # mark/index bars are another series than traded prices
        name = f"{name}_{price}"
    cells = {"instrument": name, "backend": "dukascopy" if duka else "ccxt", "data_symbol": symbol}
    if not duka:
        cells |= {"exchange": exchange, "market": market}
    elif t.get("market"):
        cells["market"] = t.get("market")  # parse_cells says it is for ccxt rows only
    urls = ("base_url", "archive_url") if rest else ("base_url",)
    cells |= {key: t.get(key) for key in urls if t.get(key)} | ({"price": price} if price else {})
    return cells


def _lake_name(symbol: str) -> str:
    """The name a stream into the lake gives the symbol (BTC/USDT:USDT → BTCUSDT), so a rest
    task and a stream of one market share a series; parse_cells reports a name it refuses."""
    try:
        return lake_instrument(symbol)
    except ConfigError:
        return symbol


def outputs(task: Task) -> frozenset[str]:
    """What a task writes: its files and, when it writes into a lake, the lake's series."""
    if isinstance(task, RestTask):
        files = {str(p.resolve()) for p in map(task.out_for, task.items) if p is not None}
        return frozenset(files | _series(task.lake, task.items))
    config = task.config
    if config.format != "lake" and config.out is not None:
        return frozenset({str(config.out.resolve())})
    return frozenset(_series(config.lake, task.items))


def _series(lake: Path | None, items: Sequence[Instrument]) -> set[str]:
    root = resolve_lake(lake).resolve()
    return {f"{root}::{item.source}/{item.instrument}" for item in items}


def _order(tasks: list[Task], problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    """Each task waits for the earlier tasks that write where it writes."""
    after: dict[str, tuple[str, ...]] = {}
    seen: list[tuple[Task, frozenset[str]]] = []
    for task in tasks:
        mine = outputs(task)
        before = [other for other, theirs in seen if mine & theirs]
        after[task.name] = tuple(other.name for other in before)
        for other in before:
            if isinstance(other, StreamTask) and other.config.duration_s is None:
                problems.append(Problem(f"task {task.name!r}", None, (
                    f"writes where stream task {other.name!r} writes, which has no duration, "
                    f"so it would never start; give {other.name!r} a duration or write elsewhere"
                )))  # fmt: skip
        seen.append((task, mine))
    return after
