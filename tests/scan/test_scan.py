"""Scans over a real lake: ranking, filters, skipped instruments, universes from files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from barlake import indicators as ind
from barlake.errors import ConfigError
from barlake.lake import Lake
from barlake.scan import DEFAULT_SCORE, Member, read_universe_file, scan
from barlake.scan_expr import ExpressionError


def test_default_score_ranks_the_uptrend_first_and_matches_the_indicators(lake: Lake) -> None:
    result = scan(lake, "binance")
    assert list(result.ranked["instrument"][:1]) == ["UPUSDT"]
    assert list(result.ranked["instrument"])[-1] == "DOWNUSDT"
    assert list(result.ranked["rank"]) == [1, 2, 3]
    frame = lake.read("binance", "UPUSDT", "1h")
    top = result.ranked.iloc[0]
    assert top["time"] == frame.index[-1]
    close = frame["close"].to_numpy()
    rsi = ind.rsi(close, 14)[-1]
    expected = (close[-1] - ind.sma(close, 50)[-1]) / ind.atr(
        frame["high"], frame["low"], frame["close"], 14
    ).iloc[-1] + (rsi - 50) / 10
    assert top["score"] == pytest.approx(expected, rel=1e-12)
    assert DEFAULT_SCORE.startswith("(close - sma50)")


def test_instruments_with_too_few_bars_are_listed_as_skipped_with_the_reason(lake: Lake) -> None:
    result = scan(lake, "binance", filter="rsi14 > 0")
    assert [(s.instrument, s.reason) for s in result.skipped] == [
        ("NEWUSDT", "30 1h bars, sma50 needs at least 50")
    ]
    assert "NEWUSDT" not in set(result.ranked["instrument"])


def test_filter_keeps_only_matching_instruments_and_counts_the_rest(lake: Lake) -> None:
    result = scan(lake, "binance", filter="macd > 0 and rsi14 > 50", score="rsi14")
    expected = set()
    for name in ("UPUSDT", "DOWNUSDT", "FLATUSDT"):
        close = lake.read("binance", name, "1h")["close"].to_numpy()
        if ind.macd(close)[0][-1] > 0 and ind.rsi(close)[-1] > 50:
            expected.add(name)
    assert "UPUSDT" in expected and "DOWNUSDT" not in expected
    assert set(result.ranked["instrument"]) == expected
    assert result.failed == 3 - len(expected)
    assert list(result.ranked.columns) == [
        "rank",
        "source",
        "instrument",
        "time",
        "score",
        "close",
        "macd",
        "rsi14",
    ]
    assert (result.ranked["score"] == result.ranked["rsi14"]).all()
    assert result.ranked["score"].is_monotonic_decreasing


def test_names_beyond_the_default_set_are_computed_on_demand(lake: Lake) -> None:
    result = scan(lake, "binance", filter="close > sma200", score="MACDh_5_35_5 + BBZ_10_1.5")
    frame = lake.read("binance", "UPUSDT", "1h")
    row = result.ranked.set_index("instrument").loc["UPUSDT"]
    assert row["sma200"] == ind.sma(frame["close"], 200).iloc[-1]
    expected = (
        ind.macd(frame["close"], 5, 35, 5)[2].iloc[-1]
        + ind.bbands(frame["close"], 10, 1.5)[3].iloc[-1]
    )
    assert row["score"] == pytest.approx(expected)
    assert [s.reason for s in result.skipped] == ["30 1h bars, sma200 needs at least 200"]


def test_unknown_names_fail_before_reading_anything(lake: Lake) -> None:
    with pytest.raises(ExpressionError, match="unknown name 'rsi_fast'"):
        scan(lake, "binance", filter="rsi_fast > 3")


def test_unknown_universe_names_the_sources_in_the_lake(lake: Lake) -> None:
    with pytest.raises(ConfigError, match="binance, binance_swap, dukascopy"):
        scan(lake, "kraken")


def test_instruments_file_maps_exchange_market_and_backend_to_lake_sources(
    lake: Lake, tmp_path: Path
) -> None:
    universe = tmp_path / "instruments.csv"
    universe.write_text(
        "instrument,exchange,backend,market\n"
        "UPUSDT,binance,,spot\n"
        "UPUSDT,binance,,swap\n"
        "EURUSD,,dukascopy,\n"
        "GHOST,binance,,\n"
    )
    assert read_universe_file(universe) == [
        Member("binance", "UPUSDT"),
        Member("binance_swap", "UPUSDT"),
        Member("dukascopy", "EURUSD"),
        Member("binance", "GHOST"),
    ]
    result = scan(lake, universe, score="rsi14")
    assert sorted(zip(result.ranked["source"], result.ranked["instrument"], strict=True)) == [
        ("binance", "UPUSDT"),
        ("binance_swap", "UPUSDT"),
        ("dukascopy", "EURUSD"),
    ]
    assert [(s.instrument, s.reason) for s in result.skipped] == [
        ("GHOST", "0 1h bars, rsi14 needs at least 15")
    ]


def test_a_bad_instruments_row_says_what_is_missing(tmp_path: Path) -> None:
    universe = tmp_path / "bad.csv"
    universe.write_text("instrument,market\nBTCUSDT,spot\n")
    with pytest.raises(ConfigError, match="row 2: needs an exchange or backend"):
        read_universe_file(universe)


def test_scan_uses_only_bars_before_end(lake: Lake) -> None:
    result = scan(lake, "binance", score="close", end="2024-01-10")
    assert (result.ranked["time"] < pd.Timestamp("2024-01-10", tz="UTC")).all()
