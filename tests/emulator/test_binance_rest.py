"""Real ccxt.binance against the emulated spot REST: markets, klines, errors, weight, bans."""

from __future__ import annotations

import ccxt
import pytest
from emulator_support import ohlcv

from barlake.emulator import Emulator, clients, utc_ms
from barlake.emulator.universe import BINANCE_MAINTENANCE

MINUTE = 60_000


def test_ccxt_loads_markets_and_fetches_the_ground_truth(emulator):
    exchange = clients.binance(emulator.base_url)
    markets = exchange.load_markets()
    assert sorted(markets) == ["BTC/USDC", "BTC/USDT", "ETH/USDT", "LUNA/USDT", "SOL/USDT"]
    assert markets["BTC/USDT"]["precision"]["price"] == 0.01
    assert markets["LUNA/USDT"]["active"] is False  # delisted: status BREAK
    since = utc_ms("2024-11-05")
    rows = exchange.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=1000)
    assert rows == ohlcv(emulator.bars("BTCUSDT", since, since + 1000 * MINUTE))
    assert [e.path for e in emulator.binance.journal.entries()] == [
        "/api/v3/exchangeInfo",
        "/api/v3/klines",
    ]


def test_klines_skip_the_maintenance_hole_like_the_truth(emulator):
    exchange = clients.binance(emulator.base_url)
    lo, hi = BINANCE_MAINTENANCE
    rows = exchange.fetch_ohlcv("ETH/USDT", "1m", since=lo - 30 * MINUTE, limit=100)
    stamps = [r[0] for r in rows]
    assert stamps[29:31] == [lo - MINUTE, hi]
    assert rows == ohlcv(emulator.bars("ETHUSDT", lo - 30 * MINUTE, stamps[-1] + MINUTE))


def test_raw_klines_end_with_the_forming_candle_whose_close_time_is_in_the_future(emulator, http):
    reply = http(f"{emulator.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=3")
    server_now = http(f"{emulator.base_url}/api/v3/time").json()["serverTime"]
    rows = reply.json()
    assert reply.headers["Content-Type"].startswith("application/json")
    assert [len(r) for r in rows] == [12, 12, 12]
    assert rows[-1][0] == server_now - server_now % MINUTE
    assert rows[-1][6] == rows[-1][0] + MINUTE - 1 > server_now
    assert all(isinstance(v, str) for v in rows[0][1:6])
    assert isinstance(rows[0][8], int) and rows[0][11] == "0"
    closed = emulator.bars("BTCUSDT", rows[0][0], rows[-1][0] + MINUTE)
    assert len(closed) == 2  # the truth never holds the forming bar
    assert [float(v) for v in rows[1][1:6]] == ohlcv(closed)[1][1:]


def test_ccxt_returns_the_forming_candle_on_top_of_the_truth(emulator):
    exchange = clients.binance(emulator.base_url)
    since = emulator.clock() - 5 * MINUTE
    since -= since % MINUTE
    rows = exchange.fetch_ohlcv("SOL/USDT", "1m", since=since)
    truth = ohlcv(emulator.bars("SOLUSDT", since, since + 10 * MINUTE))
    assert rows[:-1] == truth
    assert rows[-1][0] == truth[-1][0] + MINUTE


def test_klines_default_to_500_oldest_first_cap_at_1000_and_bounds_are_inclusive(emulator, http):
    url = f"{emulator.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1m"
    start = utc_ms("2024-12-01")
    default = http(f"{url}&startTime={start}").json()
    assert len(default) == 500 and default[0][0] == start and default[-1][0] == start + 499 * MINUTE
    assert len(http(f"{url}&startTime={start}&limit=5000").json()) == 1000
    window = http(f"{url}&startTime={start}&endTime={start + 4 * MINUTE}").json()
    assert [r[0] for r in window] == [start + i * MINUTE for i in range(5)]
    newest = http(f"{url}&endTime={start}&limit=2").json()
    assert [r[0] for r in newest] == [start - MINUTE, start]
    micro = http(f"{url}&startTime={start * 1000}&limit=1").json()
    assert micro[0][0] == start
    header = {"X-MBX-TIME-UNIT": "MICROSECOND"}
    in_us = http(f"{url}&startTime={start}&limit=1", headers=header).json()
    assert (in_us[0][0], in_us[0][6]) == (start * 1000, (start + MINUTE) * 1000 - 1)


def test_hourly_klines_aggregate_the_same_1m_truth(emulator):
    exchange = clients.binance(emulator.base_url)
    since = utc_ms("2024-11-05")
    hours = exchange.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=3)
    minutes = ohlcv(emulator.bars("BTCUSDT", since, since + 3 * 60 * MINUTE))
    for i, hour in enumerate(hours):
        chunk = minutes[i * 60 : (i + 1) * 60]
        assert hour[:5] == [
            chunk[0][0],
            chunk[0][1],
            max(r[2] for r in chunk),
            min(r[3] for r in chunk),
            chunk[-1][4],
        ]
        assert hour[5] == pytest.approx(sum(r[5] for r in chunk), abs=1e-9)


def test_bad_symbol_and_bad_interval_map_to_ccxt_bad_symbol_and_bad_request(emulator, http):
    exchange = clients.binance(emulator.base_url)
    with pytest.raises(ccxt.BadSymbol):
        exchange.publicGetKlines({"symbol": "NOPEUSDT", "interval": "1m"})
    with pytest.raises(ccxt.BadRequest) as bad_interval:
        exchange.publicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
    assert "-1120" in str(bad_interval.value)
    reply = http(f"{emulator.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1m&paginate=true")
    assert (reply.status, reply.json()["code"]) == (400, -1104)
    missing = http(f"{emulator.base_url}/api/v3/klines?interval=1m")
    assert missing.json()["code"] == -1102


def test_a_429_raises_ddos_protection_with_a_readable_retry_after(emulator, http):
    emulator.binance.faults.add("429", retry_after=7)
    exchange = clients.binance(emulator.base_url)
    with pytest.raises(ccxt.DDoSProtection):
        exchange.publicGetTime()
    assert exchange.last_response_headers["Retry-After"] == "7"
    assert exchange.last_http_response.startswith('{"code": -1003')


def test_ignoring_a_429_earns_a_418_ban_that_outlasts_the_wait(emulator):
    emulator.binance.faults.add("429", retry_after=5)
    exchange = clients.binance(emulator.base_url)
    for _ in range(3):
        with pytest.raises(ccxt.DDoSProtection):
            exchange.publicGetPing()
    assert [e.status for e in emulator.binance.journal.entries()] == [429, 418, 418]
    assert 100 <= int(exchange.last_response_headers["Retry-After"]) <= 120
    assert "IP banned until" in exchange.last_http_response


def test_the_weight_header_is_a_running_sum_over_the_last_minute(emulator, http):
    base = emulator.base_url
    seen = [
        http(f"{base}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1"),
        http(f"{base}/api/v3/klines?symbol=ETHUSDT&interval=1h&limit=1"),
        http(f"{base}/api/v3/exchangeInfo"),
        http(f"{base}/api/v3/ticker/24hr"),
        http(f"{base}/api/v3/ticker/24hr?symbol=BTCUSDT"),
        http(f"{base}/api/v3/ping"),
    ]
    assert [int(r.headers["X-MBX-USED-WEIGHT-1M"]) for r in seen] == [2, 4, 24, 104, 106, 107]
    assert [e.weight for e in emulator.binance.journal.entries()] == [2, 2, 20, 80, 2, 1]


def test_going_over_the_budget_answers_429_with_minus_1003_and_reports_the_budget(http):
    with Emulator(spot_budget=30) as emu:
        info = http(f"{emu.base_url}/api/v3/exchangeInfo").json()
        limits = {r["rateLimitType"]: r["limit"] for r in info["rateLimits"]}
        assert limits["REQUEST_WEIGHT"] == 30
        url = f"{emu.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1"
        statuses = [http(url).status for _ in range(6)]
        refused = http(url)
    assert statuses == [200, 200, 200, 200, 200, 429]
    assert refused.status == 418  # it asked again without waiting
    assert emu.binance.journal.entries()[-2].used_weight == 30


def test_ticker_24hr_summarises_the_last_24_hours_of_truth_with_string_numbers(http):
    now = utc_ms("2026-11-20T12:00")
    with Emulator(clock=lambda: now) as emu:
        rows = http(f"{emu.base_url}/api/v3/ticker/24hr").json()
        mini = http(f"{emu.base_url}/api/v3/ticker/24hr?type=MINI&symbol=BTCUSDT").json()
    by_symbol = {r["symbol"]: r for r in rows}
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BTCUSDC", "LUNAUSDT"}
    luna = by_symbol["LUNAUSDT"]  # delisted: listed with zero activity
    assert (luna["count"], luna["volume"], luna["firstId"]) == (0, "0.00000000", -1)
    btc = by_symbol["BTCUSDT"]
    truth = emu.bars("BTCUSDT", now - 86_400_000, now)
    assert (btc["openTime"], btc["closeTime"]) == (now - 86_400_000, now)
    assert float(btc["openPrice"]) == truth.column("open")[0].as_py()
    assert float(btc["highPrice"]) == max(truth.column("high").to_pylist())
    assert float(btc["lastPrice"]) == truth.column("close")[-1].as_py()
    assert float(btc["volume"]) == pytest.approx(sum(truth.column("volume").to_pylist()))
    assert all(isinstance(btc[k], str) for k in ("priceChange", "weightedAvgPrice", "bidPrice"))
    assert sorted(mini) == sorted(
        ["symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume",
         "openTime", "closeTime", "firstId", "lastId", "count"]
    )  # fmt: skip
    assert mini["quoteVolume"] == btc["quoteVolume"]


def test_ccxt_loads_usdm_perpetuals_and_their_klines(emulator):
    exchange = clients.binance(emulator.base_url, market="linear")
    markets = exchange.load_markets()
    assert sorted(markets) == ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    since = utc_ms("2024-11-05")
    rows = exchange.fetch_ohlcv("BTC/USDT:USDT", "1m", since=since, limit=1500)
    assert rows == ohlcv(emulator.usdm_bars("BTCUSDT", since, since + 1000 * MINUTE))
    assert emulator.binance.journal.entries("/fapi/v1/klines")[0].weight == 5
