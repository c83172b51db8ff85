"""Charts: downsampling is bounded and honest, panels and trade markers are drawn from real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from app_support import walk_1m

from barlake import resample
from barlake.app import charts
from barlake.backtest import from_signals
from barlake.errors import ConfigError
from barlake.indicators import sma


@pytest.mark.parametrize(
    ("days", "timeframe", "expected"),
    [(1, "1m", "1m"), (3, "1m", "5m"), (365, "1m", "4h"), (365 * 8, "1h", "1d"), (30, "1h", "1h")],
)
def test_display_timeframe_is_the_finest_that_fits(days, timeframe, expected):
    assert charts.display_timeframe(days * 86_400_000, timeframe) == expected


def test_display_timeframe_goes_past_weeks_for_very_long_spans():
    shown = charts.display_timeframe(200 * 365 * 86_400_000, "1d", max_candles=3000)
    assert shown.endswith("w") and int(shown[:-1]) >= 4


def test_downsample_equals_resample_and_says_so():
    bars = walk_1m("2024-01-01", 10 * 24 * 60, seed=4)
    shown = charts.downsample(bars, "1m", max_candles=500)
    assert shown.timeframe == "30m" and shown.aggregated
    assert shown.label == "1m aggregated to 30m: 480 candles"
    pd.testing.assert_frame_equal(shown.frame, resample(bars, "30m"))


def test_small_ranges_are_not_aggregated():
    bars = walk_1m("2024-01-01", 600, seed=4)
    shown = charts.downsample(bars, "1m")
    assert not shown.aggregated and shown.label == "1m: 600 candles"
    assert shown.frame.equals(bars)


def test_empty_bars_give_an_empty_chart_frame():
    shown = charts.downsample(walk_1m("2024-01-01", 10).iloc[:0], "1m")
    assert shown.frame.empty and shown.label == "1m: 0 candles"


def test_a_bad_timeframe_is_a_config_error():
    with pytest.raises(ConfigError, match="bad timeframe"):
        charts.downsample(walk_1m("2024-01-01", 10), "1x")


def test_every_study_gets_its_panel_with_rsi_guides_and_macd_histogram():
    frame = resample(walk_1m("2024-01-01", 5 * 24 * 60, seed=5), "1h")
    studies = charts.Studies(
        sma=(20,), ema=(10,), bbands=(20, 2.0), rsi=14, macd=(12, 26, 9), atr=14, natr=14
    )
    fig = charts.price_figure(frame, studies, title="BTCUSDT")
    names = [t.name for t in fig.data]
    assert names[:2] == ["price", "SMA 20"] and "EMA 10" in names and "BB 20,2" in names
    assert {"RSI 14", "MACD hist", "MACD", "signal", "ATR", "NATR %", "volume"} <= set(names)
    assert studies.panels() == ["RSI", "MACD", "ATR", "NATR"]
    guides = sorted(shape.y0 for shape in fig.layout.shapes)
    assert guides == [30, 70]
    rsi = next(t for t in fig.data if t.name == "RSI 14")
    assert rsi.yaxis == "y3" and np.isnan(rsi.y[13]) and not np.isnan(rsi.y[14])


def test_trade_markers_come_from_a_real_backtest():
    frame = resample(walk_1m("2024-01-01", 20 * 24 * 60, seed=6), "1h")
    fast, slow = sma(frame["close"], 5), sma(frame["close"], 20)
    result = from_signals(frame, fast > slow, fast < slow, direction="both")
    assert len(result.trades) > 0
    fig = charts.price_figure(frame, trades=result.trades)
    entry = next(t for t in fig.data if t.name == "entry")
    exit_ = next(t for t in fig.data if t.name == "exit")
    assert len(entry.x) == len(exit_.x) == len(result.trades)
    long_side = (result.trades["side"] == "long").to_numpy()
    assert list(entry.marker.symbol) == list(np.where(long_side, "triangle-up", "triangle-down"))
    assert entry.text[0].startswith(str(result.trades["side"].iloc[0]))


def test_point_count_is_bounded_by_candles_times_traces():
    frame = charts.downsample(walk_1m("2024-01-01", 60 * 24 * 60, seed=8), "1m").frame
    fig = charts.price_figure(frame, charts.Studies(sma=(50,), rsi=14))
    assert charts.point_count(fig) == len(frame) * len(fig.data)
