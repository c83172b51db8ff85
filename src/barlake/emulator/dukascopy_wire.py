"""Dukascopy's two wire formats written from the synthetic market (PROTOCOLS §4.2–4.4, §4.8).

bi5: big-endian records (`>5i1f` candles as time, O, C, L, H, volume in millions as float32;
`>3i2f` ticks as ms, ask, bid, ask and bid volume) compressed as LZMA "alone" with the real
uncompressed size patched into bytes 5–12 of the header, as Dukascopy's files carry it.

JSON: the shapes dukascopy-node's fixtures show — base values plus delta arrays, times as
bar counts (candles) or ms (ticks), `"multiplier":1.0E-5` spelled the Java way, tick
volumes in units (`1800000.0`), a closed day as nulls and empty arrays.
"""

from __future__ import annotations

import json
import lzma
import struct

import numpy as np

from barlake.emulator.dukascopy_market import Dense, Quotes

CANDLE = np.dtype(
    [("s", ">i4"), ("o", ">i4"), ("c", ">i4"), ("l", ">i4"), ("h", ">i4"), ("v", ">f4")]
)
TICK = np.dtype([("ms", ">i4"), ("ask", ">i4"), ("bid", ">i4"), ("av", ">f4"), ("bv", ">f4")])
FILTERS = [{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 22, "preset": 1}]


def lzma_alone(raw: bytes) -> bytes:
    """LZMA-alone body with the exact uncompressed size in its header; b"" for no records."""
    if not raw:
        return b""
    body = bytearray(lzma.compress(raw, format=lzma.FORMAT_ALONE, filters=FILTERS))
    body[5:13] = struct.pack("<Q", len(raw))
    return bytes(body)


def candle_records(candles: Dense, start_ms: int) -> bytes:
    records = np.zeros(len(candles), dtype=CANDLE)
    records["s"] = (candles.ts - start_ms) // 1000
    records["o"], records["c"] = candles.open, candles.close
    records["l"], records["h"] = candles.low, candles.high
    records["v"] = candles.units / 1e6
    return records.tobytes()


def tick_records(quotes: Quotes, hour_ms: int) -> bytes:
    records = np.zeros(len(quotes), dtype=TICK)
    records["ms"] = quotes.ts - hour_ms
    records["ask"], records["bid"] = quotes.ask, quotes.bid
    records["av"], records["bv"] = quotes.ask_units / 1e6, quotes.bid_units / 1e6
    return records.tobytes()


def java_number(value: float) -> str:
    """Java's Double.toString: 0.001 stays plain, 1.0E-5 goes scientific."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    mantissa, exponent = f"{value:.15e}".split("e")
    digits = mantissa.rstrip("0")
    return f"{digits}0E{int(exponent)}" if digits.endswith(".") else f"{digits}E{int(exponent)}"


def json_candles(real: Dense, period_ms: int, shift_ms: int, factor: int) -> bytes:
    """Candles that had quotes (sparse), as the JSON API sends them."""
    head = {"timestamp": period_ms, "multiplier": "MULTIPLIER"}
    if not len(real):
        body = head | dict.fromkeys(("open", "high", "low", "close")) | {"shift": shift_ms}
        body |= {name: [] for name in ("times", "opens", "highs", "lows", "closes", "volumes")}
        return _dump(body, factor)
    steps = np.diff(np.r_[period_ms, real.ts]) // shift_ms
    body = head | {
        name: int(getattr(real, name)[0]) / factor for name in ("open", "high", "low", "close")
    }
    body |= {"shift": shift_ms, "times": steps.tolist()}
    for name in ("open", "high", "low", "close"):
        body[name + "s"] = np.diff(np.r_[getattr(real, name)[0], getattr(real, name)]).tolist()
    body["volumes"] = (real.units / 1e6).tolist()
    return _dump(body, factor)


def json_ticks(quotes: Quotes, hour_ms: int, factor: int) -> bytes:
    body: dict[str, object] = {"timestamp": hour_ms, "multiplier": "MULTIPLIER"}
    if not len(quotes):
        body |= {"ask": None, "bid": None}
        body |= {name: [] for name in ("times", "asks", "bids", "askVolumes", "bidVolumes")}
        return _dump(body, factor)
    body |= {"ask": int(quotes.ask[0]) / factor, "bid": int(quotes.bid[0]) / factor}
    body["times"] = np.diff(np.r_[hour_ms, quotes.ts]).tolist()
    body["asks"] = np.diff(np.r_[quotes.ask[0], quotes.ask]).tolist()
    body["bids"] = np.diff(np.r_[quotes.bid[0], quotes.bid]).tolist()
    body["askVolumes"] = quotes.ask_units.astype(np.float64).tolist()
    body["bidVolumes"] = quotes.bid_units.astype(np.float64).tolist()
    return _dump(body, factor)


def _dump(body: dict[str, object], factor: int) -> bytes:
    text = json.dumps(body, separators=(",", ":"))
    return text.replace('"MULTIPLIER"', java_number(1 / factor)).encode()
