"""Hyperliquid `/ws` on an accelerated clock: real ccxt.pro and a raw client against the truth."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import ccxt
import pytest
import websockets
from emulator_support import ohlcv, run

from barlake.timeframes import MINUTE_MS


def test_ccxt_watch_ohlcv_candles_equal_the_truth_once_a_later_one_starts(live, pro_hyperliquid):
    async def scenario() -> dict[int, list[float]]:
        exchange = pro_hyperliquid(live)
        seen: dict[int, list[float]] = {}
        try:
            while len(seen) < 4:
                for row in await exchange.watch_ohlcv("ETH/USDC:USDC", "1m"):
                    seen[row[0]] = row
        finally:
            await exchange.close()
        return seen

    seen = run(scenario())
    closed = sorted(seen)[:-1]
    truth = ohlcv(live.hyperliquid_bars("ETH", closed[0], closed[-1] + MINUTE_MS))
    assert [seen[t] for t in closed] == truth
    assert all(("ETH", "1m", t) in live.hyperliquid_ws.sent_closed for t in closed)


def test_raw_client_gets_greeting_acks_pong_errors_and_final_candles(live):
    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        async with websockets.connect(live.hyperliquid_ws_url) as ws:
            greeting = await ws.recv()
            candle = {"type": "candle", "coin": "BTC", "interval": "1m"}
            for request in (
                {"method": "subscribe", "subscription": candle},
                {"method": "ping"},
                {"method": "subscribe", "subscription": candle},
                {"method": "subscribe", "subscription": {"type": "trades", "coin": "DOGE"}},
            ):
                await ws.send(json.dumps(request))
            await ws.send("{not json")
            messages: list[dict[str, Any]] = []
            while len({m["data"]["t"] for m in messages if m.get("channel") == "candle"}) < 3:
                messages.append(json.loads(await ws.recv()))
            return greeting, messages

    greeting, messages = run(scenario())
    assert greeting == "Websocket connection established."
    control = [m for m in messages if m["channel"] != "candle"]
    subscription = {"type": "candle", "coin": "BTC", "interval": "1m"}
    ack = {"method": "subscribe", "subscription": subscription}
    assert control[0] == {"channel": "subscriptionResponse", "data": ack}
    assert control[1] == {"channel": "pong"}
    assert [m["channel"] for m in control[2:]] == ["error"] * 3
    assert control[2]["data"].startswith("Already subscribed")
    assert control[4]["data"].startswith("Error parsing JSON")
    candles = [m["data"] for m in messages if m["channel"] == "candle"]
    opens = sorted({c["t"] for c in candles})
    for t in opens[:-1]:
        last = [c for c in candles if c["t"] == t][-1]
        index = candles.index(last)
        assert all(c["t"] <= t for c in candles[:index])  # the final update precedes the next
        (bar,) = ohlcv(live.hyperliquid_bars("BTC", t, t + MINUTE_MS))
        assert [last["t"], *(float(last[k]) for k in "ohlcv")] == bar
        assert (last["T"], last["s"], last["i"]) == (t + MINUTE_MS - 1, "BTC", "1m")


def test_ccxt_watch_trades_equal_the_tape(live, pro_hyperliquid):
    async def scenario() -> list[dict[str, Any]]:
        exchange = pro_hyperliquid(live)
        got: dict[str, dict[str, Any]] = {}
        try:
            while len(got) < 40:
                for trade in await exchange.watch_trades("SOL/USDC:USDC"):
                    got[trade["id"]] = trade
        finally:
            await exchange.close()
        return list(got.values())

    trades = run(scenario())
    first, last = trades[0]["timestamp"], trades[-1]["timestamp"]
    truth = live.hyperliquid_trades("SOL", first, last + 1).to_pylist()
    index = live.hyperliquid_book.symbols().index("SOL")
    assert [(int(t["id"]), t["price"], t["amount"], t["side"]) for t in trades] == [
        (t["id"] * 16 + index, t["price"], t["amount"], t["side"]) for t in truth
    ]
    info = trades[0]["info"]
    assert info["coin"] == "SOL" and info["hash"].startswith("0x") and len(info["users"]) == 2


def test_a_silent_client_is_dropped_but_json_pings_keep_it(live):
    live.hyperliquid_ws.knobs.pong_timeout_s = 0.3

    async def keep_pinging(ws: Any, seconds: float) -> int:
        pongs, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            await ws.send(json.dumps({"method": "ping"}))
            while json.loads(await ws.recv()) != {"channel": "pong"}:
                pass
            pongs += 1
            await asyncio.sleep(0.1)
        return pongs

    async def scenario() -> tuple[int, float, int]:
        async with websockets.connect(live.hyperliquid_ws_url) as pinging:
            await pinging.recv()
            pinger = asyncio.create_task(keep_pinging(pinging, 1.0))
            started = time.monotonic()
            async with websockets.connect(live.hyperliquid_ws_url) as silent:
                await silent.recv()  # the greeting, then nothing until the server closes
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await silent.recv()
                lasted = time.monotonic() - started
            return closed.value.rcvd.code, lasted, await pinger

    code, lasted, pongs = run(scenario())
    assert code == 1008 and 0.25 <= lasted < 2.0
    assert pongs >= 5
    assert live.hyperliquid_ws.counters.closes == {"pong": 1}


def test_ccxt_times_out_when_a_stalled_server_stops_answering_json_pings(live, pro_hyperliquid):
    async def scenario() -> Exception:
        exchange = pro_hyperliquid(live)
        exchange.streaming["keepAlive"] = 500
        try:
            await exchange.watch_ohlcv("BTC/USDC:USDC", "1m")
            await asyncio.sleep(0.7)  # a ping answered: the watch is healthy
            await exchange.watch_ohlcv("BTC/USDC:USDC", "1m")
            live.hyperliquid_ws.stall()
            while True:
                try:
                    await exchange.watch_ohlcv("BTC/USDC:USDC", "1m")
                except ccxt.NetworkError as error:
                    return error
        finally:
            await exchange.close()

    assert isinstance(run(scenario()), ccxt.RequestTimeout)
