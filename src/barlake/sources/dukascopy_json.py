"""Dukascopy's JSON API (PROTOCOLS §4.8), the one dukascopy-node ≥ 1.49 uses since the bi5
datafeed began to hang in July 2026. Undocumented; months are 1-based, nothing is padded.

    GET {root}/v1/candles/minute/EUR-USD/BID/2026/7/10     one UTC day of 1m candles
    GET {root}/v1/ticks/EUR-USD/2026/7/13/12               one UTC hour of quotes
    GET {root}/v1/ticks/EUR-USD?from=1783944000000         the hour still running

One minute answer (EUR-USD BID 2026-07-10, arrays cut to four entries):

    {"timestamp":1783641600000,"multiplier":1.0E-5,"open":1.14331,"high":1.14334,
     "low":1.14322,"close":1.14324,"shift":60000,"times":[0,1,1,3],"opens":[0,-8,9,0],
     "highs":[0,1,4,-3],"lows":[0,-4,5,7],"closes":[0,9,-2,4],
     "volumes":[237.2,140.61,127.35,102.15]}

`times` count bars of `shift` ms from `timestamp` (a step above 1 skips minutes without
quotes: the API is sparse, unlike bi5), the O/H/L/C arrays are deltas in points
(`multiplier` = 1 / point factor) from the base values, volumes are as in bi5 (FX:
millions). A closed day is `"open":null` with empty arrays. One tick answer:

    {"timestamp":1783944000000,"multiplier":1.0E-5,"ask":1.14277,"bid":1.14273,
     "times":[93,104,154],"asks":[0,-2,-2],"bids":[0,-2,1],
     "askVolumes":[1800000.0,900000.0,900000.0],"bidVolumes":[2700000.0,14490000.0,900000.0]}

`times` are ms deltas from `timestamp`, prices deltas in points, volumes in units (÷ 1e6 →
millions, as in bi5). A body that is not JSON is garbled (UnavailableError, asked again);
JSON of another shape means the API changed (BadResponseError, reported).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from barlake.errors import BadResponseError, UnavailableError
from barlake.sources.dukascopy_records import Candles, Ticks, empty_candles
from barlake.timeframes import DAY_MS, HOUR_MS

DEFAULT_ROOT = "https://jetta.dukascopy.com"
CANDLE_ARRAYS = ("times", "opens", "highs", "lows", "closes", "volumes")
TICK_ARRAYS = ("times", "asks", "bids", "askVolumes", "bidVolumes")


class JsonTransport:
    name = "json"
    running_hour = True  # `?from=` serves the hour in progress

    def __init__(self, root: str | None, json_code: str, factor: float) -> None:
        self.root = (root or DEFAULT_ROOT).rstrip("/") + "/v1"
        self.code = json_code
        self.factor = factor

    def day_url(self, day_ms: int, side: str) -> str:
        return f"{self.root}/candles/minute/{self.code}/{side.upper()}/{_ymd(day_ms)}"

    def hour_url(self, hour_ms: int, running: bool = False) -> str:
        if running:
            return f"{self.root}/ticks/{self.code}?from={hour_ms}"
        return f"{self.root}/ticks/{self.code}/{_ymd(hour_ms)}/{(hour_ms % DAY_MS) // HOUR_MS}"

    def parse_day(self, body: bytes | None, day_ms: int, url: str = "json") -> Candles:
        return parse_candles(_document(body, url), self.factor, url)

    def parse_hour(self, body: bytes | None, hour_ms: int, url: str = "json") -> Ticks:
        return parse_ticks(_document(body, url), self.factor, url)


def _ymd(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{moment.year}/{moment.month}/{moment.day}"


def _document(body: bytes | None, url: str) -> dict[str, Any] | None:
    if not body:
        return None
    try:  # orjson parses a day of candles ~3x faster than json; both hold the GIL, so with
        doc = orjson.loads(body)  # --duk-workers parsing is what does not overlap
    except orjson.JSONDecodeError as error:
        raise UnavailableError(f"{url}: the answer is not JSON (cut short?): {error}") from error
    if not isinstance(doc, dict):
        raise BadResponseError(f"{url}: expected a JSON object, got {type(doc).__name__}")
    return doc


def parse_candles(doc: dict[str, Any] | None, factor: float, url: str = "json") -> Candles:
    """A candle answer → Candles of its bars (no flats: minutes the API skipped stay absent)."""
    arrays = _arrays(doc, CANDLE_ARRAYS, url)
    if arrays is None or doc is None:
        return empty_candles(factor)
    multiplier = _factor(doc, factor, url)
    steps = arrays["times"].astype(np.int64)
    ts = int(doc["timestamp"]) + np.cumsum(steps) * int(doc["shift"])
    prices = {
        name: _units(doc, name, multiplier, url) + np.cumsum(arrays[name + "s"].astype(np.int64))
        for name in ("open", "high", "low", "close")
    }
    return Candles(ts, **prices, volume=arrays["volumes"], factor=factor)


def parse_ticks(doc: dict[str, Any] | None, factor: float, url: str = "json") -> Ticks:
    """A tick answer → Ticks (volumes from units to millions)."""
    arrays = _arrays(doc, TICK_ARRAYS, url)
    if arrays is None or doc is None:
        empty = np.empty(0, np.int64)
        return Ticks(empty, empty, empty, empty.astype(float), empty.astype(float), factor)
    multiplier = _factor(doc, factor, url)
    return Ticks(
        ts=int(doc["timestamp"]) + np.cumsum(arrays["times"].astype(np.int64)),
        ask=_units(doc, "ask", multiplier, url) + np.cumsum(arrays["asks"].astype(np.int64)),
        bid=_units(doc, "bid", multiplier, url) + np.cumsum(arrays["bids"].astype(np.int64)),
        ask_volume=arrays["askVolumes"] / 1e6,
        bid_volume=arrays["bidVolumes"] / 1e6,
        factor=factor,
    )


def _arrays(
    doc: dict[str, Any] | None, names: tuple[str, ...], url: str
) -> dict[str, np.ndarray] | None:
    """The answer's arrays (None when it holds no records); checks lengths and time steps."""
    if doc is None:
        return None
    try:
        arrays = {name: np.asarray(doc[name], dtype=np.float64) for name in names}
    except (KeyError, TypeError, ValueError) as error:
        raise BadResponseError(
            f"{url}: unexpected JSON shape ({error!r}); the API changed?"
        ) from None
    lengths = {len(values) for values in arrays.values()}
    if len(lengths) != 1:
        raise UnavailableError(f"{url}: arrays of different lengths {sorted(lengths)}")
    steps = arrays["times"]
    if steps.size and (bool(np.any(steps < 0)) or not np.all(np.isfinite(steps))):
        raise UnavailableError(f"{url}: time steps must be finite and not negative")
    return arrays if steps.size else None


def _factor(doc: dict[str, Any], factor: float, url: str) -> float:
    """The answer's multiplier, checked against the row's point factor."""
    multiplier = doc.get("multiplier")
    if not isinstance(multiplier, int | float) or multiplier <= 0:
        raise BadResponseError(f"{url}: multiplier {multiplier!r} is not a positive number")
    if round(1 / multiplier) != round(factor):
        raise BadResponseError(
            f"{url}: the API's multiplier {multiplier:g} means a point factor of "
            f"{round(1 / multiplier)}, not {factor:g}; fix price_scale"
        )
    return float(multiplier)


def _units(doc: dict[str, Any], name: str, multiplier: float, url: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int | float):
        raise BadResponseError(f"{url}: base {name} {value!r} is not a number")
    return round(value / multiplier)
