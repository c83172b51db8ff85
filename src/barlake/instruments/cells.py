"""One row of instruments.csv checked cell by cell: every problem as '<what is wrong>; <the fix>'."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from barlake.dates import to_ms
from barlake.errors import ConfigError
from barlake.lake.layout import check_name
from barlake.sources.dukascopy_table import lookup as dukascopy_lookup
from barlake.sources.dukascopy_table import scale_problem

REQUIRED = ("instrument", "backend", "data_symbol")
COLUMNS = (
    *REQUIRED,
    *("exchange", "market", "price", "price_scale", "start"),
    *("base_url", "archive_url", "side", "transport"),
)
ONLY_FOR = dict.fromkeys(("exchange", "market", "price", "archive_url"), "ccxt") | dict.fromkeys(
    ("price_scale", "side", "transport"), "dukascopy"
)
EXAMPLE_HEADER = "instrument,backend,data_symbol,exchange,market,price_scale"
_QUOTES = ("USDT", "USDC", "FDUSD", "USD", "EUR", "BTC", "ETH", "BNB")
_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)

Problems = list[tuple[str, str]]  # (column, message)


class BadCell(ValueError):
    """One cell's problem, phrased '<what is wrong>; <the fix>'."""


def source_name(exchange: str, market: str) -> str:
    """The lake source of a ccxt market: the exchange id, plus `_<market>` unless spot."""
    return exchange if market == "spot" else f"{exchange}_{market}"


def column_name(name: str) -> str:
    """Header spelling tolerated: case, surrounding spaces, `data symbol` / `data-symbol`."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def normalise(cells: Mapping[str, str | None]) -> dict[str, str]:
    return {column_name(name): (value or "").strip() for name, value in cells.items()}


def did_you_mean(word: str, options: Sequence[str], fallback: str | None = None) -> str:
    """'did you mean <the closest option>?', else `fallback` (by default, every option)."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}?"
    return fallback or f"use one of: {', '.join(sorted(options))}"


def choice(options: tuple[str, ...], hints: dict[str, str]) -> Callable[[str], str]:
    """A parser for one of `options` (any case); `hints` maps common mistakes to their fix."""

    def parse(value: str) -> str:
        low = value.lower()
        if low in options:
            return low
        fix = hints.get(low) or did_you_mean(low, options, hints["*"])
        raise BadCell(f"{value!r} is not one of {'|'.join(options)}; {fix}")

    return parse


BACKEND = choice(
    ("ccxt", "dukascopy"),
    {
        "*": "use ccxt for a crypto exchange (its id goes in column exchange) or dukascopy for FX/CFDs"
    },
)
MARKET = choice(
    ("spot", "swap", "future"),
    {"*": "use swap for perpetuals, future for dated futures, or leave it blank for spot"}
    | dict.fromkeys(("perp", "perps", "perpetual", "linear", "inverse"), "use swap for perpetuals")
    | dict.fromkeys(("futures", "delivery", "dated"), "use future for dated futures"),
)
PRICE = choice(
    ("last", "mark", "index"),
    {"*": "use last for traded prices (or leave it blank), mark or index for contracts"}
    | dict.fromkeys(("close", "trade", "trades"), "use last for traded prices"),
)
SIDE = choice(
    ("bid", "ask", "mid"),
    {
        "*": "use bid (the default), ask, or mid for (bid+ask)/2",
        "sell": "use bid",
        "buy": "use ask",
    },
)
TRANSPORT = choice(
    ("json", "bi5"),
    {"*": "use json (the default, the current API) or bi5 (the legacy datafeed)"},
)


def _name(value: str) -> str:
    try:
        return check_name("instrument", value)
    except ConfigError as exc:
        fixed = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("_.") or "BTCUSDT"
        raise BadCell(f"{exc}; e.g. {fixed!r}") from None


def _exchange(value: str) -> str:
    low = value.lower()
    if re.fullmatch(r"[a-z][a-z0-9]*", low):
        return low
    split = re.fullmatch(r"([a-z][a-z0-9]*)[_-](spot|swap|future)", low)
    if split:
        fix = f"put the market in its own column: exchange {split[1]}, market {split[2]}"
    else:
        fix = "use the ccxt exchange id: lower-case letters and digits, e.g. binance or okx"
    raise BadCell(f"{value!r} is not a ccxt exchange id; {fix}")


def _symbol(value: str) -> str:
    if re.search(r"[\s,;]", value):
        raise BadCell(
            f"{value!r} holds a space or separator; write the symbol alone, e.g. BTC/USDT"
        )
    return value


def _ccxt_symbol(value: str) -> str:
    if re.fullmatch(r"[^/:]+/[^/:]+(:[^/:]+)?", value):
        return value
    upper = value.upper()
    quote = next((q for q in _QUOTES if upper.endswith(q) and len(upper) > len(q)), "")
    guess = f"{upper[: -len(quote)]}/{quote}" if quote else "BTC/USDT"
    raise BadCell(
        f"{value!r} is not a ccxt unified symbol; write BASE/QUOTE such as {guess} (spot) "
        f"or {guess}:{guess.split('/')[1]} (swap)"
    )


def _duka_symbol(value: str) -> str:
    upper = value.upper()
    if re.fullmatch(r"[A-Z0-9]+", upper):
        return upper
    bare = re.sub(r"[^A-Z0-9]", "", upper)
    fix = f"write it without separators: {bare}" if bare else "e.g. EURUSD or USA500IDXUSD"
    raise BadCell(f"{value!r} is not a Dukascopy code (capitals and digits); {fix}")


def _price_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        scale = math.nan
    if math.isfinite(scale) and scale >= 10:
        return scale
    if scale.is_integer() and 0 < scale < 10:
        fix = f"that looks like a number of decimals; use {10 ** int(scale)} for {int(scale)}"
    elif 0 < scale < 1:
        fix = f"that looks like the point size; use its inverse, {1 / scale:g}"
    else:
        fix = "use the point factor, e.g. 100000 for EURUSD or 1000 for USDJPY"
    raise BadCell(
        f"{value!r} is not a price factor; {fix}, or leave it blank for the built-in table"
    )


def _start(value: str) -> int:
    fix = "use YYYY-MM-DD (UTC midnight) or an ISO date-time such as 2024-01-31T12:00"
    if not _DATE_RE.match(value):
        raise BadCell(f"{value!r} is not a date; {fix}")
    if int(value[:4]) > datetime.now(UTC).year:  # also past 2262, where pandas' ns end
        raise BadCell(f"{value!r} is in the future; use a past date or leave it blank")
    try:
        ms = to_ms(value, what="start")
    except ConfigError:
        raise BadCell(f"{value!r} is not a real date; {fix}") from None
    if ms is None or ms > datetime.now(UTC).timestamp() * 1000:
        raise BadCell(f"{value!r} is in the future; use a past date or leave it blank")
    return ms


def _url(value: str) -> str:
    example = "e.g. https://api.binance.com or http://127.0.0.1:54321"
    if "://" not in value:
        host = value.split("/")[0]
        scheme = "http" if host.startswith(("127.", "localhost", "[::1]")) else "https"
        raise BadCell(f"{value!r} has no scheme; write {scheme}://{host}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadCell(f"{value!r} is not an http(s) address; {example}")
    if parts.username or parts.password:
        raise BadCell(f"{value!r} holds credentials; keep secrets in the environment or .env")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 and ":" in parts.netloc.rsplit("]", 1)[-1]:
        raise BadCell(f"{value!r} has a bad port; use a number from 1 to 65535, {example}")
    root = f"{parts.scheme}://{parts.netloc.lower()}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BadCell(f"{value!r} has a path; give scheme + host + port only: {root}")
    return root


_PARSERS: dict[str, Callable[[str], object]] = {
    "instrument": _name,
    "data_symbol": _symbol,
    "exchange": _exchange,
    "market": MARKET,
    "price": PRICE,
    "price_scale": _price_scale,
    "start": _start,
    "base_url": _url,
    "archive_url": _url,
    "side": SIDE,
    "transport": TRANSPORT,
}
_BLANK_FIX = {
    "instrument": "give the name the bars are stored under, e.g. BTCUSDT or US500.cash",
    "backend": "use ccxt for a crypto exchange or dukascopy for FX/CFDs",
    "data_symbol": "give the backend's symbol, e.g. BTC/USDT (ccxt) or EURUSD (dukascopy)",
    "exchange": "a ccxt row needs the ccxt exchange id, e.g. binance",
}


def parse_cells(cells: Mapping[str, str]) -> tuple[dict[str, object] | None, Problems]:
    """Every problem of one row (normalised cells); the typed values only when there is none."""
    problems: Problems = []
    backend = None
    if cells.get("backend"):
        try:
            backend = BACKEND(cells["backend"])
        except BadCell as bad:
            problems.append(("backend", str(bad)))
    values: dict[str, object] = {"backend": backend}
    for column in COLUMNS:
        value, owner = cells.get(column, ""), ONLY_FOR.get(column)
        if not value:
            if column in REQUIRED or (column == "exchange" and backend == "ccxt"):
                problems.append((column, f"empty; {_BLANK_FIX[column]}"))
        elif backend and owner and owner != backend:
            problems.append((column, f"{value!r} is for {owner} rows only; leave it blank"))
        elif column != "backend":
            try:
                values["start_ms" if column == "start" else column] = _PARSERS[column](value)
            except BadCell as bad:
                problems.append((column, str(bad)))
    if backend and "data_symbol" in values:
        problems += _cross_checks(backend, values, {column for column, _ in problems})
    problems.sort(key=lambda problem: COLUMNS.index(problem[0]))
    return (None if problems else values), problems


def _cross_checks(backend: str, values: dict[str, object], bad: set[str]) -> Problems:
    """The symbol's form for its backend, and that it agrees with the market and price columns."""
    symbol = str(values["data_symbol"])
    try:
        values["data_symbol"] = (_ccxt_symbol if backend == "ccxt" else _duka_symbol)(symbol)
    except BadCell as exc:
        return [("data_symbol", str(exc))]
    if backend == "dukascopy":
        code = str(values["data_symbol"])
        scaled = "price_scale" in values or "price_scale" in bad
        problem = scale_problem(code, dukascopy_lookup(code), scaled)
        return [] if problem is None else [("price_scale", f"empty; {problem}")]
    if "market" in bad:
        return []
    market, price = values.get("market", "spot"), values.get("price", "last")
    if market == "spot" and ":" in symbol:
        fix = f"set market to swap (or future), or use {symbol.split(':')[0]} for spot"
        return [("data_symbol", f"{symbol!r} is a contract symbol but market is spot; {fix}")]
    if market != "spot" and ":" not in symbol:
        fix = (
            f"use {symbol}:{symbol.split('/')[1]} (settle currency after ':') or set market to spot"
        )
        return [("data_symbol", f"{symbol!r} is a spot symbol but market is {market}; {fix}")]
    if market == "spot" and price != "last":
        fix = "set market to swap or future, or price to last"
        return [("price", f"{price!r} prices exist only for contracts; {fix}")]
    return []


def row_key(cells: Mapping[str, str]) -> tuple[str, str] | None:
    """(source, instrument) as far as a normalised row tells, even when other cells are bad."""
    name, backend = cells.get("instrument", ""), cells.get("backend", "").lower()
    exchange = cells.get("exchange", "").lower()
    if not name or backend not in ("ccxt", "dukascopy") or (backend == "ccxt" and not exchange):
        return None
    if backend == "dukascopy":
        return "dukascopy", name
    return source_name(exchange, cells.get("market", "").lower() or "spot"), name
