"""Real ccxt.hyperliquid against the emulated /info: perps, candles, 5000-candle retention."""

from __future__ import annotations

import ccxt
import pytest
from emulator_support import ohlcv

from barlake.emulator import Emulator, clients, utc_ms

MINUTE = 60_000
NOW = utc_ms("2026-11-20T12:00:30")


@pytest.fixture
def fixed() -> Emulator:
    with Emulator(clock=lambda: NOW) as emu:
        yield emu


def test_ccxt_loads_perps_and_fetches_candles_equal_to_the_truth_plus_the_forming_one(fixed):
    exchange = clients.hyperliquid(fixed.hyperliquid_url)
    markets = exchange.load_markets()
    assert sorted(markets) == ["BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC"]
    assert markets["ETH/USDC:USDC"]["precision"]["amount"] == 0.0001
    since = NOW - NOW % MINUTE - 120 * MINUTE
    rows = exchange.fetch_ohlcv("ETH/USDC:USDC", "1m", since=since)
    assert rows[:-1] == ohlcv(fixed.hyperliquid_bars("ETH", since, NOW))
    assert rows[-1][0] == NOW - NOW % MINUTE  # the forming candle, as on the real venue
    bodies = [e.body for e in fixed.hyperliquid.journal.entries()]
    assert [b["type"] for b in bodies] == ["spotMeta", "metaAndAssetCtxs", "candleSnapshot"]
    req = bodies[-1]["req"]
    assert (req["coin"], req["interval"], req["startTime"]) == ("ETH", "1m", since)
    assert req["endTime"] >= NOW  # ccxt sends its own clock


def test_only_the_newest_5000_candles_are_served(fixed, http):
    def snapshot(interval: str, start: int) -> list[dict]:
        req = {"coin": "BTC", "interval": interval, "startTime": start, "endTime": NOW}
        return http(
            f"{fixed.hyperliquid_url}/info", body={"type": "candleSnapshot", "req": req}
        ).json()

    minute = NOW - NOW % MINUTE
    candles = snapshot("1m", minute - 8000 * MINUTE)
    assert len(candles) == 5000
    assert candles[0]["t"] == minute - 4999 * MINUTE and candles[-1]["t"] == minute
    assert snapshot("1m", minute - 9000 * MINUTE)[:1] == candles[:1]
    old = http(
        f"{fixed.hyperliquid_url}/info",
        body={"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "1m",
              "startTime": minute - 7000 * MINUTE, "endTime": minute - 6000 * MINUTE}},
    ).json()  # fmt: skip
    assert old == []
    first = candles[0]
    assert sorted(first) == ["T", "c", "h", "i", "l", "n", "o", "s", "t", "v"]
    assert (first["T"], first["s"], first["i"]) == (first["t"] + MINUTE - 1, "BTC", "1m")
    assert first["o"].endswith(".0") and isinstance(first["n"], int)
    hours = snapshot("1h", minute - 200 * 24 * 60 * MINUTE)
    assert len(hours) == 200 * 24 + 1  # coarser intervals reach further back


def test_ccxt_hourly_candles_aggregate_the_same_truth(fixed):
    exchange = clients.hyperliquid(fixed.hyperliquid_url)
    since = utc_ms("2026-11-19T00:00")
    rows = exchange.fetch_ohlcv("SOL/USDC:USDC", "1h", since=since, limit=2)
    minutes = ohlcv(fixed.hyperliquid_bars("SOL", since, since + 2 * 3_600_000))
    assert rows[0][:5] == [
        since, minutes[0][1], max(r[2] for r in minutes[:60]), min(r[3] for r in minutes[:60]),
        minutes[59][4],
    ]  # fmt: skip


def test_meta_and_asset_contexts_describe_every_coin(fixed, http):
    meta, contexts = http(f"{fixed.hyperliquid_url}/info", body={"type": "metaAndAssetCtxs"}).json()
    assert [u["name"] for u in meta["universe"]] == ["BTC", "ETH", "SOL"]
    assert [u["szDecimals"] for u in meta["universe"]] == [5, 4, 2]
    forming = fixed.hyperliquid_book.get("BTC").forming(NOW)
    assert float(contexts[0]["markPx"]) == forming.prices("close")[0]
    assert http(f"{fixed.hyperliquid_url}/info", body={"type": "spotMeta"}).json() == {
        "universe": [],
        "tokens": [],
    }


def test_unknown_request_types_and_intervals_answer_422(fixed, http):
    url = f"{fixed.hyperliquid_url}/info"
    assert http(url, body={"type": "nope"}).status == 422
    bad = {"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "6h", "startTime": 0}}
    assert http(url, body=bad).status == 422
    exchange = clients.hyperliquid(fixed.hyperliquid_url)
    exchange.load_markets()
    with pytest.raises(ccxt.BadSymbol):
        exchange.fetch_ohlcv("DOGE/USDC:USDC", "1m")


def test_candle_snapshots_cost_20_plus_one_per_60_candles(fixed, http):
    start = NOW - NOW % MINUTE - 120 * MINUTE
    req = {"coin": "BTC", "interval": "1m", "startTime": start, "endTime": NOW}
    http(f"{fixed.hyperliquid_url}/info", body={"type": "candleSnapshot", "req": req})
    http(f"{fixed.hyperliquid_url}/info", body={"type": "allMids"})
    assert [e.weight for e in fixed.hyperliquid.journal.entries()] == [20, 2]
    assert fixed.hyperliquid.limiter.used(NOW) == 20 + 3 + 2  # 121 candles → 3 extra
