"""The shape of a jobs.yaml: its top-level keys, task names, and the keys a task may hold with
their spellings (English canonical, French aliases), the modes that take them and how each value
is read. Every refusal is a Problem that says what is wrong and the fix; batch_schema turns the
keys into tasks.

| key | aliases | modes | value |
| --- | --- | --- | --- |
| mode | | both | rest or stream |
| exchange | | both | ccxt id (binance, okx, ...); rest also takes dukascopy |
| symbol | symbols, symbole, symboles | both | one symbol or a list |
| market | type_marche | both | spot (default), swap; rest also future |
| subtype | sous_type | both | linear (default) or inverse: the settle currency of a contract |
| timeframe | | both | 1m (default), 5m, 1h, ... |
| out, format, table, lake, base_url | sortie (out) | both | target file, its format, sqlite table, lake |
| start, end | date_debut, date_fin | rest | [start, end), UTC |
| price | prix_ohlcv | rest | last (default), mark or index: which price the bars follow |
| archive_url | | rest | where a base_url mirror keeps Binance's bulk archive |
| stream | | stream | ohlcv (default), trades, ticker, orderbook |
| trades_to_ohlcv | trades_vers_ohlcv | stream | build the bars from trades |
| duration | duree | stream | seconds, or 90s / 15m / 2h / 1d; none = until stopped |
| flush, depth, ws_url | | stream | records per flush, order-book levels, WebSocket root |
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from barlake.dates import to_ms
from barlake.errors import ConfigError
from barlake.files.exporter import check_table_name
from barlake.instruments.cells import MARKET, PRICE, BadCell, choice, column_name, did_you_mean
from barlake.stream.model import KINDS
from barlake.timeframes import canonical

FILE_FORMATS = ("csv", "parquet", "feather", "sqlite", "backtrader")  # what a rest task exports
TOP = {"defaults": ("defaults", "defauts"), "tasks": ("tasks", "taches")}
NAME_KEYS = ("name", "nom")
BOTH = frozenset({"rest", "stream"})
REST, STREAM = frozenset({"rest"}), frozenset({"stream"})
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TRUE, _FALSE = (
    ("true", "yes", "on", "1", "oui", "vrai"),
    ("false", "no", "off", "0", "non", "faux"),
)


def fold(spelled: object) -> str:
    """How a key is matched: as an instruments.csv header (case, spaces, dashes), and accents
    do not matter either (`Date début`)."""
    text = unicodedata.normalize("NFKD", str(spelled))
    return column_name("".join(c for c in text if not unicodedata.combining(c)))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadCell(f"{value!r} is not text; write a word or a path")
    return value.strip()


def _exchange(value: object) -> str:
    return _text(value).lower()


def _words(parse: Callable[[str], str]) -> Callable[[object], str]:
    """A choice parser (instruments.cells.choice) for any YAML value: a number or a list is
    refused with the same list of options as a misspelt word."""
    return lambda value: parse(str(value).strip())


def _symbols(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(s, str) for s in items):
        raise BadCell(f"{value!r} is not a symbol or a list; e.g. BTC/USDT or [BTC/USDT, ETH/USDT]")
    if not all(s.strip() for s in items):
        raise BadCell("holds an empty symbol; write each symbol, e.g. BTC/USDT")
    return tuple(s.strip() for s in items)


def _timeframe(value: object) -> str:
    try:
        return canonical(str(value))
    except ConfigError as exc:
        raise BadCell(str(exc)) from None


def _date(value: object) -> int:
    """YAML gives dates and date-times as objects, quoted ones as text; both are UTC."""
    if isinstance(value, float | list | dict):
        raise BadCell(f"{value!r} is not a date; use YYYY-MM-DD or 2024-01-31T12:00")
    try:
        ms = to_ms(value)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise BadCell(str(exc)) from None
    assert ms is not None
    return ms


def _path(value: object) -> Path:
    return Path(_text(value)).expanduser()


def _table(value: object) -> str:
    name = _text(value)
    try:
        check_table_name(name.replace("{symbol}", "x"))
    except ConfigError:
        raise BadCell(
            f"{name!r} is not a table name; use letters, digits and _, e.g. ohlcv"
        ) from None
    return name


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise BadCell(f"{value!r} is not true or false")


def _duration(value: object) -> float:
    """Seconds: a number, or a number and a unit s, m, h or d (90s, 15m, 2h)."""
    match = _DURATION.match(str(value).strip().lower()) if not isinstance(value, bool) else None
    seconds = float(match[1]) * _UNIT_S[match[2] or "s"] if match else 0.0
    if seconds <= 0:
        raise BadCell(f"{value!r} is not a duration; use seconds or 90s, 15m, 2h, 1d")
    return seconds


def _positive(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadCell(f"{value!r} is not a whole number of 1 or more")
    return value


def _ws_url(value: object) -> str:
    url = _text(value)
    if not url.startswith(("ws://", "wss://")):
        raise BadCell(f"{url!r} is not a WebSocket address; e.g. wss://stream.binance.com:9443")
    return url.rstrip("/")


MODE = choice(("rest", "stream"), {"*": "rest downloads history, stream records live data"}
              | dict.fromkeys(("history", "historique", "download"), "use rest")
              | dict.fromkeys(("live", "flux", "ws", "websocket"), "use stream"))  # fmt: skip
SUBTYPE = choice(
    ("linear", "inverse"),
    {"*": "linear contracts settle in the quote (BTC/USDT:USDT), inverse in the base "
          "(BTC/USD:BTC)", "lineaire": "use linear", "linéaire": "use linear"},
)  # fmt: skip
KIND = choice(KINDS, {"*": "pick what to record", "candles": "use ohlcv", "book": "use orderbook"})
FORMAT = choice(
    (*FILE_FORMATS, "lake"),
    {"*": "or leave it out to take it from the extension of out", "db": "use sqlite"},
)


@dataclass(frozen=True)
class Key:
    """One task key: how its value is read, which modes take it, its other spellings."""

    parse: Callable[[object], Any]
    modes: frozenset[str] = BOTH
    aliases: tuple[str, ...] = ()


KEYS: dict[str, Key] = {
    "mode": Key(_words(MODE)),
    "exchange": Key(_exchange),
    "symbol": Key(_symbols, aliases=("symbols", "symbole", "symboles")),
    "market": Key(_words(MARKET), aliases=("type_marche",)),
    "subtype": Key(_words(SUBTYPE), aliases=("sous_type",)),
    "timeframe": Key(_timeframe),
    "start": Key(_date, REST, ("date_debut",)),
    "end": Key(_date, REST, ("date_fin",)),
    "price": Key(_words(PRICE), REST, ("prix_ohlcv",)),
    "stream": Key(_words(KIND), STREAM),
    "trades_to_ohlcv": Key(_flag, STREAM, ("trades_vers_ohlcv",)),
    "duration": Key(_duration, STREAM, ("duree",)),
    "format": Key(_words(FORMAT)),
    "out": Key(_path, aliases=("sortie",)),
    "table": Key(_table),
    "lake": Key(_path),
    "flush": Key(_positive, STREAM),
    "depth": Key(_positive, STREAM),
    "base_url": Key(_text),
    "archive_url": Key(_text, REST),
    "ws_url": Key(_ws_url, STREAM),
}
SPELLINGS = {alias: name for name, key in KEYS.items() for alias in (name, *key.aliases)}


@dataclass
class Keys:
    """One mapping's keys once read: typed values by canonical name (None unsets an inherited
    key), the spelling the file used, and the keys whose value was refused (already reported)."""

    values: dict[str, Any] = field(default_factory=dict)
    spelled: dict[str, str] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)

    def merged(self, own: Keys) -> Keys:
        """These keys as defaults under a task's own."""
        values = {k: v for k, v in (self.values | own.values).items() if v is not None}
        return Keys(values, self.spelled | own.spelled, own.bad | (self.bad - own.spelled.keys()))


@dataclass(frozen=True)
class Problem:
    """One thing to fix: where (a task, `defaults`, the file, `--tasks`), which key, what."""

    where: str
    key: str | None
    message: str

    def __str__(self) -> str:
        key = f", key {self.key}" if self.key else ""
        return f"{self.where}{key}: {self.message}"


def read_keys(raw: Mapping[Any, Any], where: str, problems: list[Problem]) -> Keys:
    """Read every key of one mapping; each unknown key or bad value becomes a problem."""
    keys = Keys()
    for spelled, value in raw.items():
        name = SPELLINGS.get(fold(spelled))
        if name is None:
            hint = did_you_mean(fold(spelled), list(SPELLINGS), "see examples/jobs.yaml")
            problems.append(Problem(where, str(spelled), f"not a task key; {hint}"))
        elif name in keys.spelled:
            first = keys.spelled[name]
            problems.append(
                Problem(where, str(spelled), f"means {name}, as {first} does; keep one")
            )
        else:
            keys.spelled[name] = str(spelled)
            try:
                keys.values[name] = None if value is None else KEYS[name].parse(value)
            except BadCell as bad:
                problems.append(Problem(where, str(spelled), str(bad)))
                keys.bad.add(name)
    return keys


class BatchFileError(ConfigError):
    """The jobs file has problems (all listed, one a line); nothing was run. Fix them and rerun."""

    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}"
        super().__init__(f"{path}: {count}, nothing was run:\n{listed}")


def read_yaml(path: Path) -> object:
    """The parsed file; a file that is not YAML is one problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such jobs file; see examples/jobs.yaml for one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the jobs file ({exc}); save it as UTF-8") from None
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        what = getattr(exc, "problem", None) or str(exc)
        raise BatchFileError(path, [Problem(where, None, f"not valid YAML: {what}")]) from None


def top_level(data: object, problems: list[Problem]) -> tuple[Mapping[Any, Any], object]:
    """(defaults, tasks) from the file's top level, under any of their spellings."""
    if not isinstance(data, Mapping):
        problems.append(Problem("file", None, "expected `defaults:` and `tasks:` at the top"))
        return {}, None
    found: dict[str, object] = {}
    for spelled, value in data.items():
        name = next((k for k, names in TOP.items() if fold(spelled) in names), None)
        if name is None:
            hint = did_you_mean(fold(spelled), [n for names in TOP.values() for n in names])
            problems.append(Problem("file", str(spelled), f"not a top-level key; {hint}"))
        elif name in found:
            problems.append(Problem("file", str(spelled), f"{name} is given twice; keep one"))
        else:
            found[name] = value
    defaults = found.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        problems.append(Problem("defaults", None, "expected a mapping of keys, e.g. lake: data"))
        defaults = {}
    return defaults, found.get("tasks")


def named_tasks(raw: object, problems: list[Problem]) -> list[tuple[str, Mapping[Any, Any]]]:
    """(name, keys) in file order from a mapping of tasks or a list of tasks with `name`."""
    before = len(problems)
    if isinstance(raw, Mapping):
        pairs: list[tuple[str, object]] = [(str(name), keys) for name, keys in raw.items()]
    elif isinstance(raw, list):
        pairs = [_list_entry(number, entry, problems) for number, entry in enumerate(raw, 1)]
    else:
        problems.append(Problem("file", "tasks", "missing or empty; add `tasks:` with one task"))
        return []
    named, seen = [], set()
    for name, keys in pairs:
        if not name:
            continue
        if name in seen:
            problems.append(Problem(f"task {name!r}", None, "defined twice; rename one"))
        elif "," in name or not name.strip():
            problems.append(Problem(f"task {name!r}", None, "names cannot hold commas (--tasks)"))
        elif not isinstance(keys, Mapping):
            problems.append(Problem(f"task {name!r}", None, "expected a mapping of keys"))
        else:
            named.append((name, keys))
        seen.add(name)
    if not named and len(problems) == before:
        problems.append(Problem("file", "tasks", "no tasks; add one under `tasks:`"))
    return named


def _list_entry(number: int, entry: object, problems: list[Problem]) -> tuple[str, object]:
    if not isinstance(entry, Mapping):
        problems.append(Problem(f"task #{number}", None, "expected a mapping with a name"))
        return "", None
    spelled = next((k for k in entry if fold(k) in NAME_KEYS), None)
    if spelled is None or not str(entry[spelled] or "").strip():
        problems.append(Problem(f"task #{number}", "name", "missing; give each task a name"))
        return "", None
    return str(entry[spelled]).strip(), {k: v for k, v in entry.items() if k != spelled}


def select(
    named: list[tuple[str, Mapping[Any, Any]]], only: Sequence[str] | None, problems: list[Problem]
) -> list[tuple[str, Mapping[Any, Any]]]:
    """The tasks `--tasks` names, in file order; every unknown name is a problem."""
    if only is None:
        return named
    names = [name for name, _ in named]
    if not only:
        problems.append(Problem("--tasks", None, f"names no task; the file has {', '.join(names)}"))
    for wanted in only:
        if wanted not in names:
            hint = did_you_mean(wanted, names, f"the file has {', '.join(names) or 'none'}")
            problems.append(Problem("--tasks", None, f"no task {wanted!r}; {hint}"))
    return [(name, keys) for name, keys in named if name in set(only)]


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key given twice in one mapping is an error: YAML keeps the
    last one silently, which would drop a whole task."""


def _unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} appears twice in one mapping; keep one", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)
