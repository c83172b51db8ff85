"""Dukascopy decoding over hand-made bytes and payloads whose values are known: bi5 records
(big-endian, O-C-L-H, LZMA alone, 0-based months), JSON deltas (1-based months), ticks →
1m with the side rule, flats, volumes, the instrument table, the calendar and the row check."""

from __future__ import annotations

import json
import lzma
import struct

import numpy as np
import pytest

from barlake.emulator import utc_ms
from barlake.errors import BadResponseError, ConfigError, UnavailableError
from barlake.instruments import Instrument
from barlake.sources.dukascopy import plan_units
from barlake.sources.dukascopy_bi5 import Bi5Transport, decode_candles, decode_ticks, decompress
from barlake.sources.dukascopy_calendar import easter, may_be_closed
from barlake.sources.dukascopy_json import JsonTransport, parse_candles, parse_ticks
from barlake.sources.dukascopy_records import Ticks, bars, canonical_volume, fill_gaps, minutes
from barlake.sources.dukascopy_table import TABLE, guess_json_code, lookup

DAY = utc_ms("2019-02-04")  # a Monday; PROTOCOLS §4.3/§4.4 decoded this day's real files


def alone(raw: bytes, *, patch_size: bool = True) -> bytes:
    """An LZMA-alone body like Dukascopy's (exact size in the header) or Python's own."""
    body = bytearray(lzma.compress(raw, format=lzma.FORMAT_ALONE))
    if patch_size:
        body[5:13] = struct.pack("<Q", len(raw))
    return bytes(body)


# --- bi5 ------------------------------------------------------------------------------------


def test_a_bi5_candle_record_reads_open_close_low_high_big_endian():
    raw = struct.pack(">5if", 0, 114543, 114569, 114542, 114570, 293.76)
    raw += struct.pack(">5if", 60, 114569, 114569, 114569, 114569, 0.0)  # a flat
    candles = Bi5Transport(None, "EURUSD", 100000).parse_day(alone(raw), DAY)
    assert candles.ts.tolist() == [DAY, DAY + 60_000]
    assert candles.open.tolist() == [114543, 114569] and candles.close.tolist()[0] == 114569
    assert candles.low.tolist()[0] == 114542 and candles.high.tolist()[0] == 114570
    assert candles.volume.tolist() == [293.76, 0.0]  # float32 noise gone, the venue's decimal kept
    decoded = decode_candles(decompress(alone(raw)), DAY, 100000)  # the bare decoder
    assert decoded.volume.tolist() == [float(np.float32(293.76)), 0.0]
    table = bars({"bid": candles}, "bid")
    assert table.to_pylist() == [
        {
            "timestamp_ms": DAY,
            "open": 1.14543,
            "high": 1.1457,
            "low": 1.14542,
            "close": 1.14569,
            "volume": 293.76,
        }
    ]  # fmt: skip  (the flat is not a bar)


def test_a_bi5_tick_record_reads_ms_then_ask_before_bid():
    hour = DAY
    raw = struct.pack(">3i2f", 994, 114545, 114543, 1.0, 2.06)
    raw += struct.pack(">3i2f", 3_599_808, 114550, 114548, 0.75, 1.5)
    ticks = decode_ticks(decompress(alone(raw)), hour, 100000)
    assert ticks.ts.tolist() == [hour + 994, hour + 3_599_808]
    assert ticks.ask.tolist() == [114545, 114550] and ticks.bid.tolist() == [114543, 114548]
    assert ticks.ask_volume.tolist() == [1.0, 0.75] and ticks.bid_volume.tolist() == [2.06, 1.5]


def test_empty_bodies_mean_no_records_and_python_lzma_streams_decode_too():
    assert decompress(b"") == b"" and decompress(None) == b""
    raw = struct.pack(">5if", 0, 1, 1, 1, 1, 0.0)
    assert decompress(alone(raw, patch_size=False)) == decompress(alone(raw)) == raw
    assert len(decode_candles(b"", DAY, 1000)) == 0


def test_a_cut_lzma_stream_and_a_ragged_record_length_are_garbled_answers():
    raw = struct.pack(">5if", 0, 1, 1, 1, 1, 0.0) * 100
    with pytest.raises(UnavailableError, match="corrupt or cut LZMA"):
        decompress(alone(raw)[:40])
    with pytest.raises(UnavailableError, match="not a whole number of 24-byte records"):
        decode_candles(raw + b"\x00", DAY, 1000)
    with pytest.raises(UnavailableError, match="not a whole number of 20-byte records"):
        decode_ticks(b"\x00" * 21, DAY, 1000)
    backwards = struct.pack(">3i2f", 500, 2, 1, 1.0, 1.0) + struct.pack(
        ">3i2f", 400, 2, 1, 1.0, 1.0
    )
    with pytest.raises(UnavailableError, match="out of order"):
        Bi5Transport(None, "EURUSD", 1000).parse_hour(alone(backwards), DAY)


def test_bi5_paths_count_months_from_00_and_pad_everything():
    bi5 = Bi5Transport("http://127.0.0.1:9", "EURUSD", 100000)
    assert bi5.day_url(utc_ms("2024-01-05"), "bid") == (
        "http://127.0.0.1:9/datafeed/EURUSD/2024/00/05/BID_candles_min_1.bi5"
    )
    assert bi5.day_url(utc_ms("2024-12-31"), "ask").endswith("/2024/11/31/ASK_candles_min_1.bi5")
    assert bi5.hour_url(utc_ms("2024-02-29T07:00")).endswith("/EURUSD/2024/01/29/07h_ticks.bi5")
    assert (
        Bi5Transport(None, "EURUSD", 1e5)
        .day_url(0, "bid")
        .startswith("https://datafeed.dukascopy.com/datafeed/EURUSD/1970/00/01/")
    )


# --- JSON -----------------------------------------------------------------------------------

# The first entries of dukascopy-node's fixture candles-minute-EUR-USD-BID-2026-7-10.json,
# with the 4th bar three minutes after the 3rd (a skipped quiet minute pair).
CANDLES = {
    "timestamp": 1783641600000, "multiplier": 1.0e-5, "open": 1.14331, "high": 1.14334,
    "low": 1.14322, "close": 1.14324, "shift": 60000, "times": [0, 1, 1, 3],
    "opens": [0, -8, 9, 0], "highs": [0, 1, 4, -3], "lows": [0, -4, 5, 7],
    "closes": [0, 9, -2, 4], "volumes": [237.2, 140.61, 127.35, 102.15],
}  # fmt: skip
TICKS = {
    "timestamp": 1783944000000, "multiplier": 1.0e-5, "ask": 1.14277, "bid": 1.14273,
    "times": [93, 104, 154], "asks": [0, -2, -2], "bids": [0, -2, 1],
    "askVolumes": [1800000.0, 900000.0, 900000.0], "bidVolumes": [2700000.0, 14490000.0, 900000.0],
}  # fmt: skip


def test_json_candles_accumulate_time_steps_and_price_deltas():
    candles = parse_candles(CANDLES, 100000)
    t0 = 1783641600000
    assert candles.ts.tolist() == [t0, t0 + 60_000, t0 + 120_000, t0 + 300_000]
    assert candles.open.tolist() == [114331, 114323, 114332, 114332]
    assert candles.high.tolist() == [114334, 114335, 114339, 114336]
    assert candles.low.tolist() == [114322, 114318, 114323, 114330]
    assert candles.close.tolist() == [114324, 114333, 114331, 114335]
    table = bars({"bid": candles}, "bid")
    assert table.column("open").to_pylist() == [1.14331, 1.14323, 1.14332, 1.14332]
    assert table.column("volume").to_pylist() == [237.2, 140.61, 127.35, 102.15]


def test_json_ticks_accumulate_ms_and_turn_units_into_millions():
    ticks = parse_ticks(TICKS, 100000)
    t0 = 1783944000000
    assert ticks.ts.tolist() == [t0 + 93, t0 + 197, t0 + 351]
    assert ticks.ask.tolist() == [114277, 114275, 114273]
    assert ticks.bid.tolist() == [114273, 114271, 114272]
    assert ticks.ask_volume.tolist() == [1.8, 0.9, 0.9]
    assert ticks.bid_volume.tolist() == [2.7, 14.49, 0.9]


def test_a_closed_json_day_is_no_records_and_a_wrong_shape_is_reported():
    closed = {**CANDLES, "open": None, "high": None, "low": None, "close": None}
    closed |= {name: [] for name in ("times", "opens", "highs", "lows", "closes", "volumes")}
    assert len(parse_candles(closed, 100000)) == 0
    with pytest.raises(BadResponseError, match="point factor of 1000, not 100000; fix price_scale"):
        parse_candles({**CANDLES, "multiplier": 0.001}, 100000)
    with pytest.raises(UnavailableError, match="arrays of different lengths"):
        parse_candles({**CANDLES, "volumes": [1.0]}, 100000)
    with pytest.raises(BadResponseError, match="unexpected JSON shape"):
        parse_candles({"timestamp": 0, "multiplier": 1e-5}, 100000)
    transport = JsonTransport("http://x:1", "EUR-USD", 100000)
    with pytest.raises(UnavailableError, match="not JSON"):
        transport.parse_day(json.dumps(CANDLES).encode()[:50], 0)
    assert transport.parse_day(json.dumps(CANDLES).encode(), 0).close.tolist()[-1] == 114335


def test_json_paths_count_months_from_1_unpadded_and_the_running_hour_uses_from():
    api = JsonTransport("http://127.0.0.1:9", "EUR-USD", 100000)
    assert api.day_url(utc_ms("2024-01-05"), "bid") == (
        "http://127.0.0.1:9/v1/candles/minute/EUR-USD/BID/2024/1/5"
    )
    assert api.hour_url(utc_ms("2026-07-13T12:00")).endswith("/v1/ticks/EUR-USD/2026/7/13/12")
    hour = utc_ms("2026-07-13T12:00")
    assert api.hour_url(hour, running=True).endswith(f"/v1/ticks/EUR-USD?from={hour}")


# --- ticks → 1m, sides, flats, volumes -------------------------------------------------------


def ticks(rows: list[tuple[int, int, int, float, float]], factor: float = 1000) -> Ticks:
    ts, ask, bid, av, bv = (np.array(col) for col in zip(*rows, strict=True))
    return Ticks(ts, ask, bid, av.astype(float), bv.astype(float), factor)


def test_ticks_become_one_minute_bars_per_side_and_mid_averages_each_price():
    quotes = ticks([
        (5_000, 150_010, 150_000, 1.0, 2.0), (20_000, 150_030, 150_020, 0.5, 0.25),
        (50_000, 150_008, 149_998, 1.0, 1.0),  # minute 0
        (180_000, 150_100, 150_090, 3.0, 0.1),  # minute 3; minutes 1 and 2 had no quotes
    ])  # fmt: skip
    bid, ask = minutes(quotes, "bid"), minutes(quotes, "ask")
    assert bid.ts.tolist() == [0, 180_000]
    assert (bid.open[0], bid.high[0], bid.low[0], bid.close[0]) == (
        150_000,
        150_020,
        149_998,
        149_998,
    )
    assert bid.volume.tolist() == [3.25, 0.1] and ask.volume.tolist() == [2.5, 3.0]
    mid = bars({"bid": bid, "ask": ask}, "mid").to_pylist()
    assert mid[0] == {
        "timestamp_ms": 0, "open": 150.005, "high": 150.025, "low": 150.003, "close": 150.003,
        "volume": 2.875,
    }  # fmt: skip
    assert mid[1]["open"] == (150.090 + 150.100) / 2 and mid[1]["volume"] == (0.1 + 3.0) / 2


def test_flats_are_dropped_unless_kept_and_sparse_gaps_can_be_filled():
    raw = b"".join(
        struct.pack(">5if", s, o, c, lo, h, v)
        for s, o, c, lo, h, v in [(0, 10, 12, 9, 13, 1.5), (60, 12, 12, 12, 12, 0.0),
                                  (120, 12, 11, 11, 12, 0.5)]
    )  # fmt: skip
    candles = decode_candles(raw, DAY, 10)
    assert bars({"ask": candles}, "ask").num_rows == 2
    assert bars({"ask": candles}, "ask", keep_flats=True).num_rows == 3
    sparse = candles.take(np.array([0, 2]))
    filled = fill_gaps(sparse)
    assert filled.ts.tolist() == candles.ts.tolist()
    assert filled.open.tolist() == [10, 12, 12] and filled.volume.tolist() == [1.5, 0.0, 0.5]


def test_volumes_keep_the_decimals_the_venue_wrote_through_float32():
    written = np.array([293.76, 0.001062, 1.48e-6, 14.49, 1234.56, 0.0, 987654.0])
    assert canonical_volume(written.astype(np.float32)).tolist() == written.tolist()
    assert canonical_volume(np.array([0.1 + 0.2])).tolist() == [0.3]


# --- the table, the calendar, the row check, the file plan -----------------------------------


def test_the_table_knows_each_instruments_own_factor_not_a_jpy_rule():
    factors = {code: lookup(code).factor for code in ("EURUSD", "USDJPY", "XAUUSD", "GASCMDUSD",
                                                      "USA500IDXUSD", "BTCUSD", "USDHUF")}  # fmt: skip
    assert factors == {"EURUSD": 100000, "USDJPY": 1000, "XAUUSD": 1000, "GASCMDUSD": 10000,
                       "USA500IDXUSD": 1000, "BTCUSD": 10, "USDHUF": 1000}  # fmt: skip
    assert lookup("usa500idxusd").json_code == "USA500.IDX-USD"
    assert {item.calendar for item in TABLE.values()} == {"fx", "cfd", "crypto"}
    assert guess_json_code("EURSGD") == "EUR-SGD"
    assert guess_json_code("AAPLUSUSD") == "AAPL.US-USD"
    assert guess_json_code("NLDIDXEUR") == "NLD.IDX-EUR"


def test_the_calendar_trusts_empty_answers_only_where_the_market_may_be_closed():
    assert may_be_closed("fx", utc_ms("2024-03-09"), utc_ms("2024-03-10"))  # Saturday
    assert may_be_closed("fx", utc_ms("2024-03-08T21:00"), utc_ms("2024-03-08T22:00"))  # Fri, DST
    assert not may_be_closed("fx", utc_ms("2024-03-08T20:00"), utc_ms("2024-03-08T21:00"))
    assert may_be_closed("fx", utc_ms("2024-03-10T21:00"), utc_ms("2024-03-10T22:00"))  # Sunday
    assert not may_be_closed("fx", utc_ms("2024-03-10"), utc_ms("2024-03-11"))  # reopens at 22
    assert may_be_closed("fx", utc_ms("2024-12-25"), utc_ms("2024-12-26"))
    assert may_be_closed("fx", utc_ms("2021-01-01"), utc_ms("2021-01-03T22:00"))  # Fri holiday
    assert not may_be_closed("crypto", utc_ms("2024-03-09"), utc_ms("2024-03-10"))
    good_friday = utc_ms("2024-03-29")
    assert easter(2024).isoformat() == "2024-03-31" and easter(2025).isoformat() == "2025-04-20"
    assert may_be_closed("cfd", good_friday, good_friday + 86_400_000)
    assert not may_be_closed("fx", good_friday, good_friday + 86_400_000)


def test_a_row_for_an_unknown_instrument_needs_a_scale_and_says_how_to_find_it():
    with pytest.raises(ConfigError) as refused:
        Instrument.from_row({"instrument": "X", "backend": "dukascopy", "data_symbol": "USDXYZ"})
    message = str(refused.value)
    assert "column price_scale" in message and "10 / pip value" in message
    assert "decimalFactor" in message
    row = {"instrument": "US500.cash", "backend": "dukascopy", "data_symbol": "USA500IDXUSD"}
    assert Instrument.from_row(row).price_scale is None  # the table has it
    row = {"instrument": "X", "backend": "dukascopy", "data_symbol": "USDXYZ", "price_scale": "1e5"}
    assert Instrument.from_row(row).price_scale == 100000.0


def test_past_days_come_as_minute_files_and_today_as_hourly_tick_files():
    now = utc_ms("2024-03-06T10:17:30")
    start = utc_ms("2024-03-04T12:00")
    units = plan_units(start, utc_ms("2024-03-06T10:17"), now, running_hour=True)
    kinds = [(u.kind, u.answered) for u in units]
    assert kinds[0] == ("day", (start, utc_ms("2024-03-05")))
    assert kinds[1] == ("day", (utc_ms("2024-03-05"), utc_ms("2024-03-06")))
    assert [k for k, _ in kinds[2:]] == ["hour"] * 10 + ["running"]
    assert kinds[-1][1] == (utc_ms("2024-03-06T10:00"), utc_ms("2024-03-06T10:17"))
    bi5 = plan_units(start, utc_ms("2024-03-06T10:17"), now, running_hour=False)
    assert bi5[-1].kind == "hour" and bi5[-1].answered[1] == utc_ms("2024-03-06T10:00")
