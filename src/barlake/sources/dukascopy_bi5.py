"""Dukascopy's legacy bi5 datafeed (PROTOCOLS §4.1–4.4): LZMA files of big-endian records.

    GET {root}/datafeed/EURUSD/2019/01/04/BID_candles_min_1.bi5   4 Feb 2019 (MM is 0-based)
    GET {root}/datafeed/EURUSD/2019/01/04/00h_ticks.bi5           its 00:00–01:00 UTC quotes

Bodies are LZMA "alone" (13-byte header: 0x5D, dict size, uncompressed size); a 0-byte
body or a 404 means no records. A minute file holds 1440 records `>5i1f` — seconds from
the day's start, then **open, close, low, high** in points, then volume — flats (O=H=L=C,
volume 0) included for closed minutes. A tick file holds `>3i2f` records — ms from the
hour's start, **ask, bid** in points, ask volume, bid volume (FX volumes in millions).
The hour still running has no tick file yet, so this transport serves today up to the
last whole hour. A body that does not decompress or whose length is not a multiple of
the record size is garbled: UnavailableError, asked again.
"""

from __future__ import annotations

import lzma
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from numba import njit

from barlake.errors import UnavailableError
from barlake.sources.dukascopy_records import Candles, Ticks, canonical_volume
from barlake.timeframes import DAY_MS, HOUR_MS

DEFAULT_ROOT = "https://datafeed.dukascopy.com"
CANDLE = np.dtype(
    [("s", ">i4"), ("open", ">i4"), ("close", ">i4"), ("low", ">i4"), ("high", ">i4"),
     ("volume", ">f4")]
)  # fmt: skip
TICK = np.dtype(
    [("ms", ">i4"), ("ask", ">i4"), ("bid", ">i4"), ("ask_volume", ">f4"), ("bid_volume", ">f4")]
)


class Bi5Transport:
    name = "bi5"
    running_hour = False  # the current hour's tick file does not exist yet

    def __init__(self, root: str | None, code: str, factor: float) -> None:
        self.root = (root or DEFAULT_ROOT).rstrip("/") + "/datafeed"
        self.code = code
        self.factor = factor

    def day_url(self, day_ms: int, side: str) -> str:
        return f"{self.root}/{self.code}/{_path(day_ms)}/{side.upper()}_candles_min_1.bi5"

    def hour_url(self, hour_ms: int, running: bool = False) -> str:
        hour = (hour_ms % DAY_MS) // HOUR_MS
        return f"{self.root}/{self.code}/{_path(hour_ms)}/{hour:02d}h_ticks.bi5"

    def parse_day(self, body: bytes | None, day_ms: int, url: str = "bi5") -> Candles:
        """A minute file's body → Candles, volumes back to the decimals the venue wrote."""
        candles = decode_candles(decompress(body, url), day_ms, self.factor, url)
        _ascending(candles.ts, day_ms, DAY_MS, url)
        return replace(candles, volume=canonical_volume(candles.volume))

    def parse_hour(self, body: bytes | None, hour_ms: int, url: str = "bi5") -> Ticks:
        ticks = decode_ticks(decompress(body, url), hour_ms, self.factor, url)
        _ascending(ticks.ts, hour_ms, HOUR_MS, url)
        return ticks


def _path(ms: int) -> str:
    """YYYY/MM/DD with the month counted from 00 (January) like Java's Calendar."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{moment.year:04d}/{moment.month - 1:02d}/{moment.day:02d}"


def decompress(body: bytes | None, url: str = "bi5") -> bytes:
    """The records of an LZMA-alone body; none for a 404 or a 0-byte body."""
    if not body:
        return b""
    try:
        return lzma.decompress(body, format=lzma.FORMAT_ALONE)
    except lzma.LZMAError as error:
        raise UnavailableError(f"{url}: corrupt or cut LZMA body ({error})") from error


def decode_candles(raw: bytes, start_ms: int, factor: float, url: str = "bi5") -> Candles:
    """`>5i1f` records (seconds from `start_ms`, O, C, L, H points, volume) → Candles with
    native columns, 32-bit as on the wire; volumes stay the float32 values as sent (see
    `canonical_volume`). One kernel pass (`candles_nb`) writes every column."""
    if len(raw) % CANDLE.itemsize:
        raise _ragged(raw, CANDLE, url)
    words = np.frombuffer(raw, np.uint32)
    ts = np.empty(len(words) // 6, np.int64)
    fields = np.empty((5, len(ts)), np.int32)
    candles_nb(words, start_ms, ts, fields)
    o, c, lo, h, volume = fields[0], fields[1], fields[2], fields[3], fields[4]
    return Candles(ts, o, h, lo, c, volume.view(np.float32), factor)


@njit(cache=True, nogil=True)
def candles_nb(words: np.ndarray, start_ms: int, ts: np.ndarray, fields: np.ndarray) -> int:
    """Candle records read as native uint32 `words` (6 big-endian words each) → open times
    in epoch ms into `ts` and the other five words byte-swapped into the rows of `fields`.

    Like `np.frombuffer(raw, CANDLE)`, then `start_ms + records["s"].astype(np.int64) * 1000`
    and one `astype` per field, in one pass that the compiler vectorises. A first sweep reads
    one word per 64-byte line so a file not in cache streams in with many loads in flight
    (returned, so it is not optimised away).
    """
    touched = np.uint32(0)
    for k in range(0, words.shape[0], 16):
        touched ^= words[k]
    o, c, lo, h, volume = fields[0], fields[1], fields[2], fields[3], fields[4]
    for i in range(ts.shape[0]):
        k = 6 * i
        ts[i] = start_ms + np.int64(np.int32(_swap(words[k]))) * 1000
        o[i] = _swap(words[k + 1])
        c[i] = _swap(words[k + 2])
        lo[i] = _swap(words[k + 3])
        h[i] = _swap(words[k + 4])
        volume[i] = _swap(words[k + 5])
    return int(touched)


@njit(cache=True, nogil=True, inline="always")
def _swap(word: np.uint32) -> np.uint32:
    """The word with its four bytes reversed (big-endian ↔ native)."""
    word = ((word >> np.uint32(8)) & np.uint32(0x00FF00FF)) | (
        (word << np.uint32(8)) & np.uint32(0xFF00FF00)
    )
    return (word >> np.uint32(16)) | (word << np.uint32(16))


def decode_ticks(raw: bytes, hour_ms: int, factor: float, url: str = "bi5") -> Ticks:
    """`>3i2f` records (ms from the hour, ask, bid points, ask and bid volume) → Ticks."""
    records = _records(raw, TICK, url)
    return Ticks(
        ts=records["ms"].astype(np.int64) + hour_ms,
        ask=records["ask"].astype(np.int64),
        bid=records["bid"].astype(np.int64),
        ask_volume=canonical_volume(records["ask_volume"]),
        bid_volume=canonical_volume(records["bid_volume"]),
        factor=factor,
    )


def _ascending(ts: np.ndarray, start: int, length: int, url: str) -> None:
    """Record times must rise and stay inside the file's period; else the body is garbled."""
    if len(ts) and (ts[0] < start or ts[-1] >= start + length or bool(np.any(ts[1:] < ts[:-1]))):
        raise UnavailableError(f"{url}: record times are out of order or outside the file")


def _records(raw: bytes, dtype: np.dtype, url: str) -> np.ndarray:
    if len(raw) % dtype.itemsize:
        raise _ragged(raw, dtype, url)
    return np.frombuffer(raw, dtype=dtype)


def _ragged(raw: bytes, dtype: np.dtype, url: str) -> UnavailableError:
    return UnavailableError(
        f"{url}: {len(raw)} bytes is not a whole number of {dtype.itemsize}-byte records"
    )
