"""The HTML report: one self-contained file, light on long series, hiding no extreme."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from barlake.backtest import from_signals
from barlake.backtest.report import MAX_CANDLES, _curves, display_bars
from barlake.strategies import get_strategy

pytest.importorskip("plotly")


@pytest.fixture(scope="module")
def result(walk_bars):
    signals = get_strategy("ma_cross").signals(walk_bars, fast=5, slow=30)
    return from_signals(walk_bars, signals.entries, signals.exits, sl_pct=2.0)


def test_report_is_one_self_contained_page_with_stats_chart_and_trades(result, tmp_path):
    path = result.report(tmp_path / "nested" / "report.html", title="walk · ma_cross")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<title>walk · ma_cross</title>" in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js is inlined: opens offline
    assert "Plotly.newPlot" in page and '"type":"candlestick"' in page
    for name in ("sharpe", "max_drawdown_pct", "exit_reason", "Last 20 trades"):
        assert name in page
    assert f"{result.stats['trades']}</td>" in page


def test_a_second_report_replaces_the_first_whole(result, tmp_path):
    path = tmp_path / "r.html"
    path.write_text("old")
    result.report(path)
    assert path.read_text(encoding="utf-8").endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temp file left behind


def test_long_series_are_drawn_on_coarser_candles_without_hiding_extremes():
    n = 50_000
    close = 100 + np.cumsum(np.random.default_rng(2).normal(0, 0.1, n))
    index = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC", name="time")
    bars = pd.DataFrame(
        {"open": close, "high": close + 0.05, "low": close - 0.05, "close": close, "volume": 1.0},
        index=index,
    )
    candles, tf_ms = display_bars(bars)
    assert len(candles) <= MAX_CANDLES and tf_ms == 15 * 60_000
    assert candles["high"].max() == bars["high"].max() and candles["low"].min() == bars["low"].min()
    signals = get_strategy("ma_cross").signals(bars, fast=10, slow=60)
    run = from_signals(bars, signals.entries, signals.exits)
    equity, drawdown = _curves(run, tf_ms)
    assert len(equity) == len(candles) and equity.iloc[-1] == run.equity.iloc[-1]
    assert drawdown.max() == pytest.approx(run.drawdown.max())


def test_weekly_equity_and_drawdown_share_the_candles_monday_weeks():
    n = 4_400  # daily bars over 12 years: too many days, so the report draws weeks
    close = 100 + np.cumsum(np.random.default_rng(3).normal(0, 1.0, n))
    index = pd.date_range("2012-01-01", periods=n, freq="1D", tz="UTC", name="time")
    bars = pd.DataFrame(
        {"open": close, "high": close + 0.5, "low": close - 0.5, "close": close, "volume": 1.0},
        index=index,
    )
    candles, tf_ms = display_bars(bars)
    assert tf_ms == 7 * 86_400_000 and (candles.index.day_of_week == 0).all()
    signals = get_strategy("ma_cross").signals(bars, fast=5, slow=20)
    equity, drawdown = _curves(from_signals(bars, signals.entries, signals.exits), tf_ms)
    assert equity.index.equals(candles.index) and drawdown.index.equals(candles.index)
