"""Fault injection seen from a plain HTTP client and from real ccxt, plus the request log."""

from __future__ import annotations

import json
import socket
import time
from http.client import RemoteDisconnected

import ccxt
import pytest

from barlake.emulator import Emulator, clients
from barlake.emulator.faults import parse

KLINES = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=3"


def test_a_truncated_answer_is_a_200_whose_json_does_not_parse(emulator, http):
    emulator.binance.faults.add("truncate")
    cut, whole = http(emulator.base_url + KLINES), http(emulator.base_url + KLINES)
    assert cut.status == 200 and int(cut.headers["Content-Length"]) == len(cut.body)
    assert 0 < len(cut.body) < len(whole.body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.body)
    assert len(whole.json()) == 3


def test_a_dropped_connection_gets_no_answer_and_is_logged_as_status_0(emulator, http):
    emulator.hyperliquid.faults.add("drop")
    with pytest.raises((RemoteDisconnected, ConnectionResetError)):
        http(emulator.hyperliquid_url + "/info", body={"type": "meta"})
    assert [e.status for e in emulator.hyperliquid.journal.entries()] == [0]
    assert http(emulator.hyperliquid_url + "/info", body={"type": "meta"}).status == 200


def test_a_slow_answer_outlasts_the_client_timeout(emulator, http):
    emulator.binance.faults.add("slow", seconds=1.0, path="/api/v3/klines")
    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout)):
        http(emulator.base_url + KLINES, timeout=0.3)
    assert time.monotonic() - started < 0.9
    assert http(emulator.base_url + "/api/v3/ping").status == 200  # other paths unaffected
    exchange = clients.binance(emulator.base_url, timeout=300)
    emulator.binance.faults.add("slow", seconds=1.0)
    with pytest.raises(ccxt.RequestTimeout):
        exchange.publicGetTime()


def test_server_error_bursts_carry_binance_bodies_then_recover(emulator, http):
    emulator.binance.faults.add("503", times=2)
    emulator.binance.faults.add("500", path="/api/v3/time")
    replies = [http(emulator.base_url + KLINES) for _ in range(3)]
    assert [r.status for r in replies] == [503, 503, 200]
    assert replies[0].json()["code"] == -1008
    failed = http(emulator.base_url + "/api/v3/time")
    assert (failed.status, failed.json()["code"]) == (500, -1000)
    assert "X-MBX-USED-WEIGHT-1M" in failed.headers


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("500", ccxt.OperationFailed),
        ("502", ccxt.ExchangeNotAvailable),
        ("504", ccxt.RequestTimeout),
    ],
)
def test_ccxt_maps_each_5xx_to_its_exception(emulator, status, error):
    emulator.binance.faults.add(status)
    with pytest.raises(error):
        clients.binance(emulator.base_url).publicGetPing()


def test_every_nth_request_fails_for_ever_with_a_periodic_fault(http):
    with Emulator(faults="binance:502/3") as emu:
        statuses = [http(emu.base_url + "/api/v3/ping").status for _ in range(7)]
    assert statuses == [200, 200, 502, 200, 200, 502, 200]


def test_faults_stay_on_their_own_server(emulator, http):
    emulator.archive.faults.add("500", times=None)
    assert http(emulator.base_url + KLINES).status == 200
    assert http(emulator.archive_url + "/data/spot/x").status == 500
    emulator.reset()
    assert http(emulator.archive_url + "/data/spot/x").status == 404


def test_fault_specs_parse_every_field_and_reject_nonsense():
    (one, two) = parse("hyperliquid:slow=2.5x3/2@/info, 429=4")
    assert (one.venue, one.kind, one.value, one.times, one.every, one.path) == (
        "hyperliquid", "slow", 2.5, 3, 2, "/info",
    )  # fmt: skip
    assert (two.venue, two.kind, two.value, two.times) == ("binance", "429", 4.0, 1)
    assert parse(["archive:checksum", "binance:budget=600"])[1].kind == "budget"
    for bad in ("teapot", "moon:500", "500x"):
        with pytest.raises(ValueError, match="bad fault"):
            parse(bad)


def test_a_budget_in_the_spec_limits_weight(http):
    with Emulator(faults="binance:budget=3") as emu:
        statuses = [http(emu.base_url + KLINES).status for _ in range(2)]
    assert statuses == [200, 429]


def test_the_request_log_records_params_body_status_and_weight(emulator, http):
    http(emulator.base_url + KLINES)
    http(emulator.hyperliquid_url + "/info", body={"type": "meta"})
    (spot,) = emulator.binance.journal.entries()
    assert (spot.path, spot.params, spot.status, spot.weight, spot.used_weight) == (
        "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m", "limit": "3"}, 200, 2, 2,
    )  # fmt: skip
    (info,) = emulator.hyperliquid.journal.entries("/info")
    assert (info.method, info.body, info.weight) == ("POST", {"type": "meta"}, 20)
