"""Binance spot streams on an accelerated clock, seen by real ccxt.pro and raw clients.

One market minute lasts one real second (`live` in conftest), so candles close while a test
watches; every closed candle, trade and book level is compared with the emulator's truth.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import websockets
from emulator_support import ohlcv, run

from barlake.emulator import Accelerated, Emulator, utc_ms
from barlake.timeframes import MINUTE_MS


def raw_url(emu: Emulator, *streams: str) -> str:
    return emu.binance_ws_url.replace("/stream", "/ws/" + "/".join(streams))


async def frames(ws: Any, until: Callable[[list[Any]], bool], seconds: float = 8.0) -> list[Any]:
    """JSON messages until `until(messages)` holds (or `seconds` pass)."""
    messages: list[Any] = []
    deadline = time.monotonic() + seconds
    while not until(messages) and time.monotonic() < deadline:
        messages.append(json.loads(await ws.recv()))
    return messages


async def reply(ws: Any, request_id: Any) -> dict[str, Any]:
    """The control answer with this id, skipping stream payloads in between."""
    while True:
        message = json.loads(await ws.recv())
        if "stream" not in message and "e" not in message and message.get("id") == request_id:
            return message


def test_ccxt_watch_ohlcv_closed_candles_equal_the_truth(live, pro_binance):
    async def scenario() -> tuple[dict[int, list[float]], dict[int, int]]:
        exchange = pro_binance(live)
        seen: dict[int, list[float]] = {}
        updates: dict[int, int] = defaultdict(int)
        try:
            while len(seen) < 4:
                for row in await exchange.watch_ohlcv("BTC/USDT", "1m"):
                    seen[row[0]] = row
                    updates[row[0]] += 1
        finally:
            await exchange.close()
        return seen, updates

    seen, updates = run(scenario())
    closed = sorted(seen)[:-1]
    assert [b - a for a, b in itertools.pairwise(closed)] == [MINUTE_MS] * 2
    truth = ohlcv(live.bars("BTCUSDT", closed[0], closed[-1] + MINUTE_MS))
    assert [seen[t] for t in closed] == truth
    assert all(updates[t] >= 4 for t in closed[1:])  # forming updates, then the final one


def test_raw_kline_stream_sends_forming_updates_then_exactly_one_final(live, http):
    async def scenario() -> list[dict[str, Any]]:
        async with websockets.connect(raw_url(live, "btcusdt@kline_1m")) as ws:
            return await frames(ws, lambda ms: sum(m["k"]["x"] for m in ms) >= 3)

    messages = run(scenario())
    by_open: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        assert (message["e"], message["s"]) == ("kline", "BTCUSDT")  # raw: not wrapped
        by_open[message["k"]["t"]].append(message)
    finals = [t for t in sorted(by_open) if by_open[t][-1]["k"]["x"]]
    assert len(finals) == 3
    for t in finals:
        updates = by_open[t]
        assert [m["k"]["x"] for m in updates] == [False] * (len(updates) - 1) + [True]
        forming = [float(m["k"]["v"]) for m in updates]
        assert forming == sorted(forming)  # volume only grows while the candle forms
        k, event_time = updates[-1]["k"], updates[-1]["E"]
        assert 0 < event_time - k["T"] < 30_000  # sent within half a real second of the close
        rest = http(
            f"{live.base_url}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={t}&limit=1"
        )
        fields = [k[f] for f in ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q", "B")]
        assert fields == rest.json()[0]
        assert k["L"] - k["f"] + 1 == k["n"]
        assert ("BTCUSDT", "1m", t) in live.ws_sent_closed
    assert [float(by_open[t][-1]["k"]["c"]) for t in finals[:-1]] == [
        float(by_open[t + MINUTE_MS][0]["k"]["o"]) for t in finals[:-1]
    ]
    truth = ohlcv(live.bars("BTCUSDT", finals[0], finals[-1] + MINUTE_MS))
    assert [[by_open[t][-1]["k"][f] for f in "tohlcv"] for t in finals] == [
        [row[0], *(f"{v:.8f}" for v in row[1:])] for row in truth
    ]


def test_three_minute_klines_aggregate_the_minutes(http):
    clock = Accelerated(utc_ms("2026-11-20T12:02:50"), speed=360)  # 3 minutes in half a second
    with Emulator(clock=clock) as emu:
        emu.binance_ws.knobs.kline_push_ms = 60

        async def scenario() -> list[dict[str, Any]]:
            async with websockets.connect(raw_url(emu, "ethusdt@kline_3m")) as ws:
                return await frames(ws, lambda ms: sum(m["k"]["x"] for m in ms) >= 2)

        finals = [m["k"] for m in run(scenario()) if m["k"]["x"]]
        for k in finals:
            rest = http(
                f"{emu.base_url}/api/v3/klines?symbol=ETHUSDT&interval=3m&startTime={k['t']}&limit=1"
            )
            assert [k[f] for f in "tohlcv"] == rest.json()[0][:6]
            minutes = ohlcv(emu.bars("ETHUSDT", k["t"], k["t"] + 3 * MINUTE_MS))
            assert float(k["h"]) == max(r[2] for r in minutes)
            assert float(k["c"]) == minutes[-1][4]


def test_combined_streams_wrap_payloads_and_control_messages_answer_like_binance(live):
    live.binance_ws.knobs.max_inbound_per_s = 50

    async def scenario() -> list[dict[str, Any]]:
        url = live.binance_ws_url + "?streams=btcusdt@aggTrade/ethusdt@trade"
        async with websockets.connect(url) as ws:
            wrapped = await frames(ws, lambda ms: len(ms) >= 3)
            answers = []
            for request in (
                {"method": "LIST_SUBSCRIPTIONS", "id": 1},
                {"method": "SUBSCRIBE", "params": ["solusdt@bookTicker"], "id": "abc"},
                {"method": "UNSUBSCRIBE", "params": ["ethusdt@trade"], "id": 3},
                {"method": "LIST_SUBSCRIPTIONS", "id": 4},
                {"method": "GET_PROPERTY", "params": ["combined"], "id": 5},
                {"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 6},
                {"method": "PING", "id": 7},
                {"params": [], "id": 8},
            ):
                await ws.send(json.dumps(request))
                answers.append(await reply(ws, request["id"]))
            await ws.send("not json")
            return [*wrapped, *answers, await reply(ws, None)]

    messages = run(scenario())
    for message in messages[:3]:
        assert message["stream"] in ("btcusdt@aggTrade", "ethusdt@trade")
        assert message["data"]["e"] == message["stream"].split("@")[1]
    answers = messages[3:]
    assert answers[:5] == [
        {"result": ["btcusdt@aggTrade", "ethusdt@trade"], "id": 1},
        {"result": None, "id": "abc"},
        {"result": None, "id": 3},
        {"result": ["btcusdt@aggTrade", "solusdt@bookTicker"], "id": 4},
        {"result": True, "id": 5},
    ]
    assert [(a["code"], a["id"]) for a in answers[5:]] == [(1, 6), (2, 7), (2, 8), (3, None)]
    assert "unknown variant `PING`" in answers[6]["msg"]
    counters = live.binance_ws.counters
    assert (counters.subscriptions, counters.unsubscriptions) == (3, 1)


def test_names_that_serve_nothing_are_accepted_and_stay_silent(live):
    silent = ["dogeusdt@trade", "BTCUSDT@trade", "btcusdt@kline_1m@+08:00", "btcusdt@kline_7m"]

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with websockets.connect(live.binance_ws_url) as ws:
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": silent, "id": 1}))
            answer = await reply(ws, 1)
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@trade"], "id": 2}))
            return answer, await frames(ws, lambda ms: len(ms) >= 20)

    answer, messages = run(scenario())
    assert answer == {"result": None, "id": 1}
    assert {m.get("stream") for m in messages if "stream" in m} == {"ethusdt@trade"}


def test_ccxt_watch_trades_equal_the_tape_trade_and_aggtrade(live, pro_binance):
    async def watch(exchange: Any, symbol: str, **params: Any) -> list[dict[str, Any]]:
        got: dict[str, dict[str, Any]] = {}
        while len(got) < 40:
            for trade in await exchange.watch_trades(symbol, params=params):
                got[trade["id"]] = trade
        return list(got.values())

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        exchange = pro_binance(live)
        try:
            return await watch(exchange, "BTC/USDT"), await watch(
                exchange, "ETH/USDT", name="aggTrade"
            )
        finally:
            await exchange.close()

    for symbol, trades in zip(("BTCUSDT", "ETHUSDT"), run(scenario()), strict=True):
        first, last = trades[0]["timestamp"], trades[-1]["timestamp"]
        truth = live.trades(symbol, first, last + 1).to_pylist()
        got = [(int(t["id"]), t["timestamp"], t["price"], t["amount"], t["side"]) for t in trades]
        assert got == [
            (t["id"], t["timestamp_ms"], t["price"], t["amount"], t["side"]) for t in truth
        ]
        assert {t["side"] for t in trades} == {"buy", "sell"}
    events = [e.path for e in live.binance.journal.entries()]
    assert events == ["/api/v3/exchangeInfo"]  # trades come from the socket alone


def test_ccxt_order_book_syncs_from_the_rest_snapshot_and_the_diffs(live, pro_binance):
    async def scenario() -> list[tuple[int, list[list[float]], list[list[float]]]]:
        exchange = pro_binance(live)
        books = []
        try:
            for _ in range(8):
                book = await exchange.watch_order_book("BTC/USDT")
                books.append(
                    (
                        book["nonce"],
                        [list(x) for x in book["bids"]],
                        [list(x) for x in book["asks"]],
                    )
                )
        finally:
            await exchange.close()
        return books

    books = run(scenario())
    nonces = [nonce for nonce, _, _ in books]
    assert nonces == sorted(set(nonces))
    for nonce, bids, asks in books:
        truth = live.order_book("BTCUSDT", nonce)
        assert bids == [
            [p / 100, q / 1e5] for p, q in zip(truth.bid_prices, truth.bid_sizes, strict=True)
        ]
        assert asks == [
            [p / 100, q / 1e5] for p, q in zip(truth.ask_prices, truth.ask_sizes, strict=True)
        ]
        assert bids[0][0] < asks[0][0]
    depth = live.binance.journal.entries("/api/v3/depth")
    assert [(e.params, e.weight) for e in depth] == [({"symbol": "BTCUSDT", "limit": "1000"}, 50)]


def test_partial_depth_and_book_ticker_follow_the_same_book(live):
    async def scenario() -> list[dict[str, Any]]:
        async with websockets.connect(
            raw_url(live, "solusdt@depth5@100ms", "solusdt@bookTicker")
        ) as ws:
            return await frames(
                ws,
                lambda ms: (
                    sum("lastUpdateId" in m for m in ms) >= 3 and sum("u" in m for m in ms) >= 3
                ),
            )

    for message in run(scenario()):
        update = message.get("lastUpdateId", message.get("u"))
        truth = live.order_book("SOLUSDT", update)
        bids = [
            [f"{p / 100:.8f}", f"{q / 1000:.8f}"]
            for p, q in zip(truth.bid_prices, truth.bid_sizes, strict=True)
        ]
        asks = [
            [f"{p / 100:.8f}", f"{q / 1000:.8f}"]
            for p, q in zip(truth.ask_prices, truth.ask_sizes, strict=True)
        ]
        if "lastUpdateId" in message:
            assert (message["bids"], message["asks"]) == (bids[:5], asks[:5])
        else:
            assert [message[k] for k in "bBaA"] == [*bids[0], *asks[0]]
            assert message["s"] == "SOLUSDT"


def test_ccxt_watch_ticker_reads_mini_and_full_24h_tickers(live, pro_binance):
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        exchange = pro_binance(live)
        try:
            mini = await exchange.watch_ticker("BTC/USDT")
            full = await exchange.watch_ticker("ETH/USDT", params={"name": "ticker"})
        finally:
            await exchange.close()
        return mini, full

    mini, full = run(scenario())
    assert mini["info"]["e"] == "24hrMiniTicker" and mini["bid"] is None
    event = mini["info"]["E"]
    assert mini["last"] == live.trades("BTCUSDT", event - MINUTE_MS, event + 1)["price"][-1].as_py()
    assert full["info"]["e"] == "24hrTicker"
    assert full["bid"] < full["ask"] and full["low"] <= full["last"] <= full["high"]
    day = live.bars("ETHUSDT", full["info"]["O"] - MINUTE_MS, full["info"]["C"])
    assert full["baseVolume"] >= sum(day["volume"].to_pylist()[2:-1])
    assert full["info"]["n"] == full["info"]["L"] - full["info"]["F"] + 1
