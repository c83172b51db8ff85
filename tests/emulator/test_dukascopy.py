"""The Dukascopy emulator seen from a plain HTTP client: both transports' paths and months,
dense bi5 files with flats, LZMA headers, running periods, "no data" answers and faults.
Bodies are read here with struct/numpy/lzma directly, not with barlake's decoders."""

from __future__ import annotations

import json
import lzma
import signal
import socket
import struct
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from barlake.emulator import Emulator, utc_ms
from barlake.emulator.faults import parse

NOW = utc_ms("2024-03-06T10:17:30")
CANDLE = np.dtype(
    [("s", ">i4"), ("o", ">i4"), ("c", ">i4"), ("l", ">i4"), ("h", ">i4"), ("v", ">f4")]
)
TICK = np.dtype([("ms", ">i4"), ("ask", ">i4"), ("bid", ">i4"), ("av", ">f4"), ("bv", ">f4")])
MINUTES = "/datafeed/EURUSD/2024/{month}/15/BID_candles_min_1.bi5"


@pytest.fixture
def emu():
    with Emulator(clock=lambda: NOW) as emulator:
        yield emulator


def records(body: bytes, dtype: np.dtype) -> np.ndarray:
    return np.frombuffer(lzma.decompress(body, format=lzma.FORMAT_ALONE), dtype=dtype)


def test_bi5_months_count_from_00_and_each_month_serves_its_own_day(emu, http):
    january = records(http(emu.dukascopy_url + MINUTES.format(month="00")).body, CANDLE)
    february = records(http(emu.dukascopy_url + MINUTES.format(month="01")).body, CANDLE)
    truth = emu.dukascopy_bars("EURUSD", utc_ms("2024-01-15"), utc_ms("2024-01-16"))
    first = (truth.column("timestamp_ms")[0].as_py() - utc_ms("2024-01-15")) // 1000
    row = january[january["s"] == first][0]
    assert row["o"] / 100000 == truth.column("open")[0].as_py()
    assert (row["h"], row["l"]) == (
        round(truth.column("high")[0].as_py() * 100000),
        round(truth.column("low")[0].as_py() * 100000),
    )
    assert not np.array_equal(january["o"], february["o"])
    for bad in ("12", "1", "001"):
        assert http(emu.dukascopy_url + MINUTES.format(month=bad)).status == 404


def test_minute_files_are_dense_with_flats_and_lzma_headers_carry_the_size(emu, http):
    body = http(emu.dukascopy_url + MINUTES.format(month="00")).body
    assert body[0] == 0x5D and struct.unpack("<I", body[1:5])[0] == 1 << 22
    raw = lzma.decompress(body, format=lzma.FORMAT_ALONE)
    assert struct.unpack("<Q", body[5:13])[0] == len(raw) == 1440 * 24
    day = np.frombuffer(raw, CANDLE)
    assert day["s"].tolist() == list(range(0, 86400, 60))
    assert (day["l"] <= np.minimum(day["o"], day["c"])).all()
    assert (day["h"] >= np.maximum(day["o"], day["c"])).all()
    flats = day["v"] == 0
    assert 0 < flats.sum() < 1440  # quiet minutes inside a trading day
    saturday_url = emu.dukascopy_url + "/datafeed/EURUSD/2024/00/13/BID_candles_min_1.bi5"
    saturday = records(http(saturday_url).body, CANDLE)
    assert len(saturday) == 1440 and (saturday["v"] == 0).all()
    assert len(set(saturday["o"].tolist())) == 1  # Friday's last close carried through


def test_tick_files_hold_the_hours_quotes_ask_before_bid(emu, http):
    body = http(emu.dukascopy_url + "/datafeed/EURUSD/2024/00/15/13h_ticks.bi5").body
    ticks = records(body, TICK)
    assert len(ticks) > 60 and (np.diff(ticks["ms"]) >= 0).all() and ticks["ms"][-1] < 3_600_000
    assert (ticks["ask"] > ticks["bid"]).all()
    assert np.allclose(ticks["av"] * 100, np.round(ticks["av"] * 100), atol=1e-4)
    hour = utc_ms("2024-01-15T13:00")
    truth = emu.dukascopy_bars("EURUSD", hour, hour + 60_000)
    in_first_minute = ticks[ticks["ms"] < 60_000]
    assert truth.column("open")[0].as_py() == in_first_minute["bid"][0] / 100000


def test_hour_and_day_candle_files_cover_a_month_and_a_year(emu, http):
    hours = records(http(emu.dukascopy_url + "/datafeed/EURUSD/2024/01/ASK_candles_hour_1.bi5").body, CANDLE)  # fmt: skip
    assert len(hours) == 24 * 29 and hours["s"][1] == 3600
    days = records(http(emu.dukascopy_url + "/datafeed/EURUSD/2023/BID_candles_day_1.bi5").body, CANDLE)  # fmt: skip
    assert len(days) == 365 and days["s"][-1] == 364 * 86400
    assert http(emu.dukascopy_url + "/datafeed/EURUSD/2024/BID_candles_day_1.bi5").body == b""


def test_json_months_count_from_1_unpadded_and_a_closed_day_is_nulls(emu, http):
    url = emu.dukascopy_url + "/v1/candles/minute/EUR-USD/BID/2024/1/15"
    doc = http(url).json()
    assert doc["timestamp"] == utc_ms("2024-01-15") and doc["shift"] == 60000
    assert b'"multiplier":1.0E-5' in http(url).body
    assert len(doc["times"]) == len(doc["opens"]) == len(doc["volumes"]) < 1440  # sparse
    assert (
        doc["opens"][0] == 0
        and doc["open"]
        == emu.dukascopy_bars("EURUSD", utc_ms("2024-01-15"), utc_ms("2024-01-16"))
        .column("open")[0]
        .as_py()
    )
    assert http(emu.dukascopy_url + "/v1/candles/minute/EUR-USD/BID/2024/01/15").status == 404
    closed = http(emu.dukascopy_url + "/v1/candles/minute/EUR-USD/BID/2024/1/13").json()
    assert closed["open"] is None and closed["times"] == [] and closed["volumes"] == []
    ticks = http(emu.dukascopy_url + "/v1/ticks/EUR-USD/2024/1/15/13").json()
    assert ticks["timestamp"] == utc_ms("2024-01-15T13:00") and ticks["asks"][0] == 0
    assert ticks["bidVolumes"][0] % 10_000 == 0  # units, not millions
    hour = http(emu.dukascopy_url + "/v1/candles/hour/EUR-USD/ASK/2024/2").json()
    assert hour["shift"] == 3_600_000


def test_running_periods_come_with_from_and_only_up_to_now(emu, http):
    today, hour = utc_ms("2024-03-06"), utc_ms("2024-03-06T10:00")
    candles = http(f"{emu.dukascopy_url}/v1/candles/minute/EUR-USD/BID?from={today}").json()
    last = candles["timestamp"] + sum(candles["times"]) * 60_000
    assert last + 60_000 <= NOW  # the forming minute is not served
    ticks = http(f"{emu.dukascopy_url}/v1/ticks/EUR-USD?from={hour}").json()
    assert ticks["timestamp"] == hour and hour + sum(ticks["times"]) < NOW
    assert http(f"{emu.dukascopy_url}/v1/ticks/EUR-USD?from={hour - 3_600_000}").status == 404
    assert http(emu.dukascopy_url + "/v1/ticks/EUR-USD/2024/3/6/10").status == 404
    assert http(emu.dukascopy_url + "/v1/candles/minute/EUR-USD/BID/2024/3/6").status == 404
    assert http(emu.dukascopy_url + "/datafeed/EURUSD/2024/02/06/BID_candles_min_1.bi5").body == b""


def test_no_data_is_an_empty_200_or_a_404_as_configured(emu, http):
    before_history = emu.dukascopy_url + "/datafeed/EURUSD/2003/00/06/BID_candles_min_1.bi5"
    closed_hour = emu.dukascopy_url + "/datafeed/EURUSD/2024/00/13/10h_ticks.bi5"
    for url in (before_history, closed_hour):
        reply = http(url)
        assert (reply.status, reply.body) == (200, b"")
    emu.dukascopy_rules.no_data = "404"
    assert {http(before_history).status, http(closed_hour).status} == {404}
    assert http(emu.dukascopy_url + "/datafeed/NOPE/2024/00/15/BID_candles_min_1.bi5").status == 404
    assert http(emu.dukascopy_url + "/v1/candles/minute/NOPE-USD/BID/2024/1/15").status == 404


def test_handler_faults_answer_empty_or_ragged_once(emu, http):
    url = emu.dukascopy_url + MINUTES.format(month="00")
    emu.dukascopy.faults.add("empty")
    assert http(url).body == b""
    emu.dukascopy.faults.add("badlength")
    assert len(lzma.decompress(http(url).body, format=lzma.FORMAT_ALONE)) % 24 == 3
    assert len(lzma.decompress(http(url).body, format=lzma.FORMAT_ALONE)) == 1440 * 24
    emu.dukascopy.faults.add("badlength")
    doc = http(emu.dukascopy_url + "/v1/candles/minute/EUR-USD/BID/2024/1/15").json()
    assert len(doc["volumes"]) == len(doc["times"]) + 1
    emu.configure("dukascopy:503x2")
    assert [http(url).status for _ in range(3)] == [503, 503, 200]


def test_one_request_takes_one_fault_and_the_log_names_it(emu, http):
    url = emu.dukascopy_url + MINUTES.format(month="00")
    emu.configure("dukascopy:empty,dukascopy:503")
    assert [(reply.status, reply.body) for reply in (http(url), http(url))] == [
        (200, b""),
        (503, b"503 Server Error"),
    ]
    assert [entry.fault for entry in emu.dukascopy.journal.entries()] == ["empty", "503"]
    for elsewhere in ("binance:empty", "archive:badlength"):
        with pytest.raises(ValueError, match="is for dukascopy only"):
            parse(elsewhere)


def test_a_hang_sends_nothing_until_the_client_gives_up(emu, http):
    [setting] = parse("dukascopy:hang=3")
    assert (setting.venue, setting.kind, setting.value) == ("dukascopy", "hang", 3.0)
    emu.configure("dukascopy:hangx1")
    with pytest.raises((TimeoutError, socket.timeout)):
        http(emu.dukascopy_url + MINUTES.format(month="00"), timeout=0.3)
    [rule] = emu.dukascopy.faults.rules
    assert rule.kind == "slow" and rule.seconds == 600.0


def test_emulate_prints_the_dukascopy_url_last():
    script = (
        "import typer; from barlake.cli.emulate_command import register; "
        "app = typer.Typer(); register(app); app()"
    )
    args = [sys.executable, "-c", script, "--port", "0"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[4].startswith("dukascopy") and "EURUSD" in lines[4]
        url = lines[4].split()[1]
        with urllib.request.urlopen(url + "/v1/candles/day/EUR-USD/BID/2024", timeout=30) as reply:
            assert json.load(reply)["shift"] == 86_400_000
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0
