"""WebSocket fault knobs and liveness rules, each observed from a real client: ccxt.pro for
what a watcher sees (NetworkError, reconnect, RequestTimeout), raw clients for the frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp
import ccxt
import pytest
import websockets
from emulator_support import run

from barlake.emulator import Emulator


def kline_url(emu: Emulator) -> str:
    return emu.binance_ws_url.replace("/stream", "/ws/btcusdt@kline_1m")


async def until_closed(ws: Any) -> tuple[list[Any], int | None]:
    """Every message until the server closes; with the close code it sent."""
    messages: list[Any] = []
    try:
        while True:
            messages.append(await ws.recv())
    except websockets.ConnectionClosed as closed:
        return messages, closed.rcvd.code if closed.rcvd else None


async def watch_until_error(exchange: Any, symbol: str = "BTC/USDT") -> Exception:
    """Keep watching klines until the watch raises; return what it raised."""
    while True:
        try:
            await exchange.watch_ohlcv(symbol, "1m")
        except ccxt.NetworkError as error:
            return error


def test_a_drop_fails_the_ccxt_watch_and_the_next_watch_reconnects(live, pro_binance):
    async def scenario() -> tuple[Exception, list[list[float]]]:
        exchange = pro_binance(live)
        try:
            await exchange.watch_ohlcv("BTC/USDT", "1m")
            live.binance_ws.drop_all()
            error = await watch_until_error(exchange)
            return error, await exchange.watch_ohlcv("BTC/USDT", "1m")
        finally:
            await exchange.close()

    error, rows = run(scenario())
    assert "closing code 1006" in str(error)  # no close frame: a network drop
    assert rows and rows[-1][0] % 60_000 == 0
    counters = live.binance_ws.counters
    assert (counters.accepted, counters.closes["drop"], counters.dropped) == (2, 1, 1)


def test_refused_handshakes_answer_503_with_retry_after_then_connect(live, pro_binance):
    live.binance_ws.refuse(2, retry_after_s=1)

    async def scenario() -> tuple[list[int], list[str | None], Exception, list[list[float]]]:
        statuses, waits = [], []
        for _ in range(2):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(kline_url(live))
            statuses.append(refused.value.response.status_code)
            waits.append(refused.value.response.headers.get("Retry-After"))
        async with websockets.connect(kline_url(live)) as ws:
            assert json.loads(await ws.recv())["e"] == "kline"
        live.binance_ws.refuse(1)
        exchange = pro_binance(live)
        try:
            with pytest.raises(ccxt.NetworkError) as failed:
                await exchange.watch_ohlcv("BTC/USDT", "1m")
            return statuses, waits, failed.value, await exchange.watch_ohlcv("BTC/USDT", "1m")
        finally:
            await exchange.close()

    statuses, waits, error, rows = run(scenario())
    assert (statuses, waits) == ([503, 503], ["1", "1"])
    assert "503" in str(error) and rows
    assert (live.binance_ws.counters.refused, live.binance_ws.counters.accepted) == (3, 2)


def test_a_stalled_socket_sends_nothing_and_answers_no_ping_but_stays_open(live):
    async def scenario() -> None:
        async with websockets.connect(kline_url(live), ping_interval=None) as ws:
            await asyncio.wait_for(await ws.ping(), 1.0)  # answered while healthy
            assert json.loads(await ws.recv())["e"] == "kline"
            live.binance_ws.stall()
            await asyncio.sleep(0.1)
            while True:  # what was in flight before the stall
                try:
                    await asyncio.wait_for(ws.recv(), 0.05)
                except TimeoutError:
                    break
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.6)  # a candle closes meanwhile: nothing
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(await ws.ping(), 0.3)
            assert ws.state is websockets.State.OPEN

    run(scenario())
    assert live.binance_ws.counters.dropped == 0


def test_ccxt_notices_a_stall_through_its_keepalive(live, pro_binance):
    async def scenario() -> Exception:
        exchange = pro_binance(live)
        exchange.streaming["keepAlive"] = 500  # ms between ccxt's own pings (binance: 180 s)
        try:
            await exchange.watch_ohlcv("BTC/USDT", "1m")
            await asyncio.sleep(0.7)  # a ping answered: the watch is healthy
            await exchange.watch_ohlcv("BTC/USDT", "1m")
            live.binance_ws.stall()
            return await watch_until_error(exchange)
        finally:
            await exchange.close()

    assert isinstance(run(scenario()), ccxt.RequestTimeout)


def test_server_shutdown_sends_the_notice_then_closes_going_away(live, pro_binance):
    async def scenario() -> tuple[list[dict[str, Any]], int | None, Exception]:
        async with websockets.connect(live.binance_ws_url + "?streams=btcusdt@trade") as ws:
            await ws.recv()
            live.binance_ws.shutdown()
            seen, code = await until_closed(ws)
        exchange = pro_binance(live)
        try:
            await exchange.watch_ohlcv("BTC/USDT", "1m")
            live.binance_ws.shutdown()
            return [json.loads(m) for m in seen], code, await watch_until_error(exchange)
        finally:
            await exchange.close()

    seen, code, error = run(scenario())
    assert seen[-1]["stream"] == "!serverShutdown"
    assert seen[-1]["data"]["e"] == "serverShutdown" and seen[-1]["data"]["E"] > 0
    assert code == 1001 and "closing code 1001" in str(error)
    assert live.binance_ws.counters.closes["shutdown"] == 2


def test_a_client_that_never_pongs_is_dropped_while_ccxt_stays(live, pro_binance):
    knobs = live.binance_ws.knobs
    knobs.ping_interval_s, knobs.pong_timeout_s = 0.25, 0.6  # pongs count against 5/s

    async def silent() -> tuple[list[str], Any]:
        kinds = []
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(kline_url(live), autoping=False) as ws:
                while True:
                    message = await ws.receive()
                    kinds.append(message.type.name)
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        return kinds, message.data

    async def scenario() -> tuple[list[str], Any, float]:
        exchange = pro_binance(live)
        try:
            await exchange.watch_ohlcv("BTC/USDT", "1m")
            kinds, code = await silent()
            started = time.monotonic()
            while time.monotonic() - started < 0.6:  # ccxt pongs: still served
                await exchange.watch_ohlcv("BTC/USDT", "1m")
            return kinds, code, time.monotonic() - started
        finally:
            await exchange.close()

    kinds, code, served = run(scenario())
    assert "PING" in kinds and code == 1008
    assert served >= 0.6
    assert live.binance_ws.counters.closes == {"pong": 1}


def test_more_than_five_messages_a_second_disconnects(live):
    async def scenario() -> tuple[list[Any], int | None]:
        async with websockets.connect(live.binance_ws_url) as ws:
            with contextlib.suppress(websockets.ConnectionClosed):  # sends after the cut fail
                for n in range(20):
                    await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": n}))
            return await until_closed(ws)

    answers, code = run(scenario())
    assert code == 1008 and len(answers) == 5  # the sixth message in a second was one too many
    assert live.binance_ws.counters.closes["rate"] == 1


def test_the_connection_lifetime_is_enforced(live):
    live.hyperliquid_ws.knobs.lifetime_s = 0.3

    async def scenario() -> tuple[int | None, float]:
        started = time.monotonic()
        async with websockets.connect(live.hyperliquid_ws_url) as ws:
            assert await ws.recv() == "Websocket connection established."
            _, code = await until_closed(ws)
        return code, time.monotonic() - started

    code, lasted = run(scenario())
    assert code == 1000 and 0.25 <= lasted < 2.0
    assert live.hyperliquid_ws.counters.closes["lifetime"] == 1


def test_fault_specs_set_the_websocket_schedules():
    spec = "binance_ws:refuse=3x2, binance_ws:drop=0.3, hyperliquid_ws:stall=5, hyperliquid_ws:lifetime=60"
    with Emulator(faults=spec) as emu:
        assert (emu.binance_ws.knobs.drop_every_s, emu.binance_ws.knobs.retry_after_s) == (0.3, 3)
        assert (emu.hyperliquid_ws.knobs.stall_after_s, emu.hyperliquid_ws.knobs.lifetime_s) == (
            5,
            60,
        )

        async def scenario() -> int:
            for _ in range(2):
                with pytest.raises(websockets.InvalidStatus):
                    await websockets.connect(kline_url(emu))
            async with websockets.connect(kline_url(emu)) as ws:
                _, code = await until_closed(ws)
            assert code is None  # dropped: no close frame
            return emu.binance_ws.counters.closes["drop"]

        assert run(scenario()) == 1
        emu.reset()
        assert emu.binance_ws.knobs.drop_every_s is None
    with pytest.raises(ValueError, match="binance_ws:slow"):
        Emulator(faults="binance_ws:slow")
