"""The USD-M 24h ticker (`/fapi/v1/ticker/24hr`), over the wire and through real ccxt."""

from __future__ import annotations

import pytest

from barlake.emulator import Emulator, clients, utc_ms

USDM_FIELDS = [
    "symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "lastPrice", "lastQty",
    "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume", "openTime", "closeTime",
    "firstId", "lastId", "count",
]  # fmt: skip


def test_usdm_ticker_lists_every_perpetual_without_the_spot_only_fields(http):
    now = utc_ms("2026-11-20T12:00")
    with Emulator(clock=lambda: now) as emu:
        rows = http(f"{emu.base_url}/fapi/v1/ticker/24hr").json()
        one = http(f"{emu.base_url}/fapi/v1/ticker/24hr?symbol=ETHUSDT").json()
        weights = [e.weight for e in emu.binance.journal.entries("/fapi/v1/ticker/24hr")]
        truth = emu.usdm_bars("BTCUSDT", now - 86_400_000, now)
    assert [r["symbol"] for r in rows] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert all(sorted(r) == sorted(USDM_FIELDS) for r in [*rows, one])
    btc = rows[0]
    assert float(btc["lastPrice"]) == truth.column("close")[-1].as_py()
    assert float(btc["volume"]) == pytest.approx(sum(truth.column("volume").to_pylist()))
    assert one == rows[1]
    assert weights == [40, 1]  # all symbols, then one


def test_usdm_ticker_refuses_an_unknown_symbol_and_spot_only_parameters(emulator, http):
    unknown = http(f"{emulator.base_url}/fapi/v1/ticker/24hr?symbol=LUNAUSDT")
    mini = http(f"{emulator.base_url}/fapi/v1/ticker/24hr?type=MINI")
    assert (unknown.status, unknown.json()["code"]) == (400, -1121)
    assert (mini.status, mini.json()["code"]) == (400, -1104)


def test_ccxt_fetches_usdm_tickers_in_one_call(emulator):
    exchange = clients.binance(emulator.base_url, market="linear")
    tickers = exchange.fetch_tickers(params={"type": "swap"})
    assert sorted(tickers) == ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    assert all(t["quoteVolume"] > 0 for t in tickers.values())
    assert [e.path for e in emulator.binance.journal.entries()] == [
        "/fapi/v1/exchangeInfo",
        "/fapi/v1/ticker/24hr",
    ]
