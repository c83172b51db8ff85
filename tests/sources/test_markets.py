"""Market listings and top-N universes through real ccxt against the loopback emulator."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from barlake.emulator import Emulator, utc_ms
from barlake.errors import BadResponseError, ConfigError, RateLimitedError, UnavailableError
from barlake.instruments import load_instruments
from barlake.sources.markets import (
    MarketInfo,
    Ranked,
    instrument_name,
    instrument_rows,
    list_markets,
    pick_universe,
    top_markets,
)

NOW = utc_ms("2026-11-20T12:00")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(clock=lambda: NOW) as emulator:
        yield emulator


def raw_volumes(url: str) -> dict[str, float]:
    """The venue's own answer, read without ccxt: symbol → quoteVolume."""
    with urllib.request.urlopen(url, timeout=10) as reply:
        return {row["symbol"]: float(row["quoteVolume"]) for row in json.load(reply)}


def test_list_markets_makes_one_request_and_marks_the_delisted_pair_inactive(emu):
    found = list_markets("binance", base_url=emu.base_url)
    assert [m.symbol for m in found] == [
        "BTC/USDC",
        "BTC/USDT",
        "ETH/USDT",
        "LUNA/USDT",
        "SOL/USDT",
    ]
    assert found[1] == MarketInfo("BTC/USDT", "BTCUSDT", "BTC", "USDT", "spot", True)
    assert {m.symbol: m.active for m in found}["LUNA/USDT"] is False
    assert [e.path for e in emu.binance.journal.entries()] == ["/api/v3/exchangeInfo"]


def test_search_matches_the_unified_symbol_or_the_venue_id_in_any_case(emu):
    assert [m.id for m in list_markets("binance", search="btc", base_url=emu.base_url)] == [
        "BTCUSDC",
        "BTCUSDT",
    ]
    assert [m.id for m in list_markets("binance", search="ethusdt", base_url=emu.base_url)] == [
        "ETHUSDT"
    ]
    assert list_markets("binance", search="DOGE", base_url=emu.base_url) == []


def test_swap_lists_usdm_perpetuals_from_the_futures_endpoint_only(emu):
    found = list_markets("binance", market="swap", base_url=emu.base_url)
    assert [m.symbol for m in found] == ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    assert {m.type for m in found} == {"swap"}
    assert [e.path for e in emu.binance.journal.entries()] == ["/fapi/v1/exchangeInfo"]


def test_top_markets_ranks_by_quote_volume_with_one_ticker_call_of_weight_80(emu):
    ranked = top_markets("binance", quote="usdt", top=10, base_url=emu.base_url)
    truth = raw_volumes(f"{emu.base_url}/api/v3/ticker/24hr")
    expected = sorted(("BTCUSDT", "ETHUSDT", "SOLUSDT"), key=lambda s: -truth[s])
    assert [r.market.id for r in ranked] == expected  # LUNA: delisted, zero volume
    assert [r.quote_volume for r in ranked] == pytest.approx([truth[s] for s in expected])
    calls = [e for e in emu.binance.journal.entries() if e.path == "/api/v3/ticker/24hr"]
    assert len(calls) == 2  # ours, then the one this test made
    assert (calls[0].params, calls[0].weight) == ({}, 80)  # no symbols: every market at once
    assert calls[0].at_ms <= calls[1].at_ms


def test_top_markets_keeps_only_n_and_only_the_asked_quote(emu):
    usdt = top_markets("binance", quote="USDT", top=2, base_url=emu.base_url)
    usdc = top_markets("binance", quote="USDC", top=5, base_url=emu.base_url)
    assert len(usdt) == 2 and usdt[0].quote_volume >= usdt[1].quote_volume
    assert [r.market.symbol for r in usdc] == ["BTC/USDC"]


def test_swap_universe_ranks_usdm_perpetuals_from_the_futures_ticker(emu):
    ranked = top_markets("binance", quote="USDT", top=3, market="swap", base_url=emu.base_url)
    truth = raw_volumes(f"{emu.base_url}/fapi/v1/ticker/24hr")
    assert [r.market.symbol for r in ranked] == [
        f"{s[:-4]}/USDT:USDT" for s in sorted(truth, key=lambda s: -truth[s])
    ]
    fapi = emu.binance.journal.entries("/fapi/v1/ticker/24hr")
    assert [(e.params, e.weight) for e in fapi] == [({}, 40), ({}, 40)]


def test_hyperliquid_perps_get_base_quote_names_instead_of_asset_indexes(emu):
    universe = pick_universe(
        "hyperliquid", quote="USDC", top=2, market="swap", base_url=emu.hyperliquid_url
    )
    assert [r.market.id for r in universe.ranked] != [r.instrument for r in universe.rows]
    assert all(r.instrument.endswith("USDC") and r.market == "swap" for r in universe.rows)
    assert [r.data_symbol for r in universe.rows] == [r.market.symbol for r in universe.ranked]
    assert universe.ranked[0].quote_volume >= universe.ranked[1].quote_volume
    bodies = [e.body["type"] for e in emu.hyperliquid.journal.entries()]
    assert bodies.count("metaAndAssetCtxs") == 2  # load_markets, then the one ticker call


def test_pick_universe_writes_rows_the_sync_can_load_and_merges_on_rerun(emu, tmp_path: Path):
    target = tmp_path / "instruments.csv"
    target.write_text(
        "# my FX\ninstrument,backend,data_symbol,exchange,market,price_scale\n"
        "EURUSD,dukascopy,EURUSD,,,100000\n"
    )
    first = pick_universe("binance", quote="USDT", top=2, base_url=emu.base_url, out=target)
    again = pick_universe("binance", quote="USDT", top=3, base_url=emu.base_url, out=target)
    assert (first.written.added, first.written.updated, first.written.kept) == (2, 0, 1)
    assert (again.written.added, again.written.updated, again.written.kept) == (1, 2, 1)
    loaded = load_instruments(target)
    assert loaded.ok, loaded.errors
    assert target.read_text().startswith("# my FX\n")
    ccxt_rows = [i for i in loaded if i.backend == "ccxt"]
    assert [i.instrument for i in ccxt_rows] == [r.market.id for r in again.ranked]
    assert {(i.exchange, i.market, i.base_url, i.source) for i in ccxt_rows} == {
        ("binance", "spot", emu.base_url, "binance")
    }
    assert [i.data_symbol for i in ccxt_rows] == [r.market.symbol for r in again.ranked]


def test_a_base_url_with_a_path_is_stored_as_its_root(emu):
    universe = pick_universe("binance", quote="USDT", top=1, base_url=f"{emu.base_url}/api/v3/")
    assert universe.rows[0].base_url == emu.base_url


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"exchange_id": "binancex"}, ["unknown exchange 'binancex'", "ccxt id"]),
        ({"top": 0}, ["--top 0", "at least 1"]),
        ({"market": "perp"}, ["--market 'perp'", "use swap for perpetuals"]),
        ({"quote": None}, ["--quote USDT"]),
        ({"quote": "EUR"}, ["quoted in EUR", "USDC, USDT", "--quote"]),
        ({"base_url": "127.0.0.1:9"}, ["--base-url", "scheme + host"]),
        ({"base_url": "http://me:pw@127.0.0.1:9"}, ["credentials"]),
    ],
)
def test_bad_input_is_a_config_error_naming_the_thing_and_the_fix(emu, kwargs, words):
    args = {"exchange_id": "binance", "quote": "USDT", "top": 5, "base_url": emu.base_url}
    with pytest.raises(ConfigError) as caught:
        top_markets(**(args | kwargs))
    assert all(word in str(caught.value) for word in words), str(caught.value)
    if kwargs.get("quote") != "EUR":
        assert len(emu.binance.journal) == 0  # refused before any request


def test_a_refused_connection_names_the_address_and_the_fix(tmp_path: Path):
    with Emulator() as stopped:
        dead = stopped.base_url
    target = tmp_path / "instruments.csv"
    with pytest.raises(UnavailableError) as caught:
        pick_universe("binance", quote="USDT", top=5, base_url=dead, out=target)
    assert str(caught.value) == (
        f"binance: cannot reach {dead} (connection refused); "
        "check --base-url (is a server listening there?)"
    )
    assert not target.exists()


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("binance:429=7x*", RateLimitedError, "rate limited by"),
        ("binance:500x*", UnavailableError, "An unknown error occurred"),
        ("binance:dropx*", UnavailableError, "failed (binance GET"),
        ("binance:slow=3x*", UnavailableError, "did not answer within 1 s"),
        ("binance:503x*", BadResponseError, "answered an error"),
    ],
)
def test_venue_faults_map_onto_the_error_tree_as_one_line(fault, error, words):
    with Emulator(faults=fault) as emu:
        base = emu.base_url
        with pytest.raises(error) as caught:
            top_markets("binance", quote="USDT", top=1, base_url=base, timeout_s=1)
    message = str(caught.value)
    assert message.startswith("binance: ") and base in message, message
    assert words in message and "\n" not in message, message


@pytest.mark.parametrize(
    ("venue_id", "name"),
    [("BTCUSDT", "BTCUSDT"), ("BTC-USDT", "BTC-USDT"), ("0", "BTCUSDC"), ("@107", "BTCUSDC")],
)
def test_instrument_names_are_the_venue_id_unless_that_is_no_usable_name(venue_id, name):
    market = MarketInfo("BTC/USDC", venue_id, "BTC", "USDC", "spot", True)
    assert instrument_name(market) == name


def test_a_row_that_would_repeat_a_name_is_skipped_and_logged(caplog):
    ranked = [
        Ranked(MarketInfo("BTC/USDC:USDC", "0", "BTC", "USDC", "swap", True), 2.0),
        Ranked(MarketInfo("BTC/USDC:USDC", "@9", "BTC", "USDC", "swap", True), 1.0),
        Ranked(MarketInfo("ETH/USDC:USDC", "1", "ETH", "USDC", "swap", True), 0.5),
    ]
    with caplog.at_level("WARNING", logger="barlake.sources.markets"):
        rows = instrument_rows(ranked, "hyperliquid", "swap")
    assert [(r.instrument, r.source) for r in rows] == [
        ("BTCUSDC", "hyperliquid_swap"),
        ("ETHUSDC", "hyperliquid_swap"),
    ]
    assert "instrument name BTCUSDC repeats" in caplog.text


def test_an_unwritable_out_is_a_config_error_after_the_ranking(emu, tmp_path: Path):
    (tmp_path / "file").write_text("not a folder")
    target = tmp_path / "file" / "instruments.csv"
    with pytest.raises(ConfigError, match=r"cannot write .*instruments\.csv .*writable --out"):
        pick_universe("binance", quote="USDT", top=1, base_url=emu.base_url, out=target)
