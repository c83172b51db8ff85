"""The synthetic truth: deterministic, valid OHLC, a listing date, one hole, a forming bar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.emulator import Market, SymbolSpec, utc_ms
from barlake.emulator.candles import aggregate, window
from barlake.emulator.universe import BINANCE_MAINTENANCE, binance_spot

MINUTE = 60_000
NOW = utc_ms("2026-11-20T12:34:56")


def spot(symbol: str) -> Market:
    return Market(next(s for s in binance_spot() if s.symbol == symbol), "binance")


def test_same_symbol_gives_identical_bars_in_every_instance_and_others_differ():
    start, end = utc_ms("2024-11-03"), utc_ms("2024-11-05")
    first, again = spot("BTCUSDT").minutes(start, end), spot("BTCUSDT").minutes(start, end)
    other = Market(spot("BTCUSDT").spec, "hyperliquid").minutes(start, end)
    assert np.array_equal(first.close, again.close)
    assert np.array_equal(first.volume, again.volume)
    assert not np.array_equal(first.close, other.close)


def test_every_bar_has_valid_ohlc_and_opens_at_the_previous_close_across_days():
    bars = spot("ETHUSDT").minutes(utc_ms("2024-11-01"), utc_ms("2024-11-04"))
    assert len(bars) == 3 * 1440
    assert np.all(bars.high >= np.maximum(bars.open, bars.close))
    assert np.all(bars.low <= np.minimum(bars.open, bars.close))
    assert np.all(bars.low >= 1)
    assert np.array_equal(bars.open[1:], bars.close[:-1])
    assert np.all(np.diff(bars.open_ms) == MINUTE)
    quiet = bars.volume == 0
    assert np.array_equal(bars.trades == 0, quiet)
    assert np.all(bars.high[quiet] == bars.open[quiet])


def test_the_maintenance_hole_and_the_days_before_listing_have_no_bars():
    lo, hi = BINANCE_MAINTENANCE
    around = spot("BTCUSDT").bars(lo - 60 * MINUTE, hi + 60 * MINUTE, NOW)
    stamps = around.column("timestamp_ms").to_numpy()
    assert len(stamps) == 120
    assert stamps[59] == lo - MINUTE and stamps[60] == hi
    eth = spot("ETHUSDT")
    listed = eth.bars(utc_ms("2024-03-14"), utc_ms("2024-03-16"), NOW)
    assert listed.column("timestamp_ms")[0].as_py() == utc_ms("2024-03-15T09:00")
    assert abs(listed.column("open")[0].as_py() / 2300.0 - 1) < 0.05


def test_ground_truth_holds_closed_bars_only_in_lake_shape():
    minute = NOW - NOW % MINUTE
    table = spot("BTCUSDT").bars(minute - 10 * MINUTE, minute + 10 * MINUTE, NOW)
    assert table.column_names == ["timestamp_ms", "open", "high", "low", "close", "volume"]
    assert table.column("timestamp_ms")[-1].as_py() == utc_ms("2026-11-20T12:33")
    assert len(table) == 10


def test_prices_are_exact_decimals_so_floats_round_trip_through_text():
    bars = spot("BTCUSDT").minutes(utc_ms("2024-11-01"), utc_ms("2024-11-01T01:00"))
    floats = bars.prices("close")
    texts = [f"{c // 100}.{c % 100:02d}" for c in bars.close.tolist()]
    assert floats.tolist() == [float(t) for t in texts]


def test_forming_bar_is_a_partial_copy_of_the_minute_it_will_become():
    market = spot("SOLUSDT")
    minute = NOW - NOW % MINUTE
    forming, final = market.forming(NOW), market.minutes(minute, minute + MINUTE)
    assert forming.open_ms.tolist() == [minute]
    assert forming.open[0] == final.open[0]
    assert forming.volume[0] < final.volume[0]
    live = market.live(minute - 3 * MINUTE, minute + MINUTE, NOW)
    assert live.open_ms.tolist() == [minute - 3 * MINUTE + i * MINUTE for i in range(4)]


def test_hourly_candles_are_the_pandas_resample_of_the_1m_truth():
    market = spot("BTCUSDT")
    start = utc_ms("2025-03-12")
    candles = window(market, "1h", NOW, start_ms=start, end_ms=start + 86_399_999, limit=24)
    minutes = market.bars(start, start + 86_400_000, NOW).to_pandas()
    minutes.index = pd.to_datetime(minutes.pop("timestamp_ms"), unit="ms")
    expected = minutes.resample("1h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    expected = expected.dropna()  # the maintenance hole (02:00-04:00) has no candles
    assert len(candles) == 22
    assert candles.open_ms.tolist() == expected.index.astype("datetime64[ms]").asi8.tolist()
    assert candles.prices("high").tolist() == expected["high"].tolist()
    assert candles.prices("close").tolist() == expected["close"].tolist()
    assert np.allclose(candles.volumes(), expected["volume"].to_numpy(), rtol=0, atol=1e-9)


def test_monthly_and_weekly_buckets_follow_the_calendar_and_monday():
    market = spot("BTCUSDT")
    bars = market.minutes(utc_ms("2024-12-30"), utc_ms("2025-01-07"))
    weeks = aggregate(bars, "1w")
    months = aggregate(bars, "1M")
    assert weeks.open_ms.tolist() == [utc_ms("2024-12-30"), utc_ms("2025-01-06")]
    assert months.open_ms.tolist() == [utc_ms("2024-12-01"), utc_ms("2025-01-01")]
    assert months.close[0] == bars.close[2 * 1440 - 1]


def test_any_symbol_name_gets_a_usable_spec():
    spec = SymbolSpec.guess("DOGEUSDC")
    assert (spec.base, spec.quote) == ("DOGE", "USDC")
    bars = Market(spec).minutes(utc_ms("2024-06-01"), utc_ms("2024-06-01T00:10"))
    assert len(bars) == 10
