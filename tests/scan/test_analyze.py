"""`barlake analyze`: the full indicator set for one instrument, saved and summarised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barlake import ConfigError, Lake
from barlake.analysis import analyze
from barlake.cli.main import main
from barlake.emulator import Emulator
from barlake.indicators import rsi, sma


def hourly(n: int, drift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC", name="time")
    close = 100 * np.exp(np.cumsum(rng.normal(drift, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": 5.0,
        },
        index=index,
    )


def test_analyze_writes_the_last_days_with_warmed_up_indicators(tmp_path):
    lake = Lake(tmp_path)
    bars = hourly(24 * 60, 0.002, 1)
    lake.write("binance", "BTCUSDT", "1h", bars)
    result = analyze(lake, "BTCUSDT", timeframe="1h", days=10)
    saved = pd.read_parquet(result.path)
    assert result.path == tmp_path / "exports/BTCUSDT_1h_analysis.parquet"
    assert len(saved) == result.rows == 240
    assert saved.index[-1] == bars.index[-1]
    assert not saved["sma50"].isna().any()  # warm-up history was read before the window
    expected_rsi = rsi(bars["close"], 14).iloc[-1]
    assert result.summary["rsi14"] == pytest.approx(expected_rsi, rel=1e-6)
    assert result.summary["sma50"] == pytest.approx(sma(bars["close"], 50).iloc[-1], rel=1e-12)
    assert result.flags["close_above_sma50"] == (bars["close"].iloc[-1] > result.summary["sma50"])


def test_analyze_asks_for_a_source_when_several_hold_the_instrument(tmp_path):
    lake = Lake(tmp_path)
    lake.write("binance", "BTCUSDT", "1h", hourly(200, 0.0, 2))
    lake.write("okx", "BTCUSDT", "1h", hourly(200, 0.0, 3))
    with pytest.raises(ConfigError, match="binance, okx"):
        analyze(lake, "BTCUSDT")
    assert analyze(lake, "BTCUSDT", source="okx").source == "okx"
    with pytest.raises(ConfigError, match="no 1h bars"):
        analyze(lake, "ETHUSDT")


def test_analyze_command_prints_a_summary_and_exits_zero(tmp_path, capsys):
    Lake(tmp_path).write("binance", "ETHUSDT", "1h", hourly(500, 0.0, 4))
    assert main(["analyze", "ETHUSDT", "--days", "5", "--lake", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "rsi14" in shown and "macd_above_signal" in shown
    assert (tmp_path / "exports/ETHUSDT_1h_analysis.parquet").exists()


def test_analyze_sync_fetches_the_window_and_warm_up_first(tmp_path, capsys):
    with Emulator() as emu:
        config = tmp_path / "instruments.csv"
        config.write_text(
            "instrument,backend,data_symbol,exchange,base_url\n"
            f"BTCUSDT,ccxt,BTC/USDT,binance,{emu.base_url}\n"
        )
        args = ["analyze", "BTCUSDT", "--sync", "--config", str(config), "--days", "2"]
        code = main([*args, "--lake", str(tmp_path / "lake")])
        assert code == 0
        shown = capsys.readouterr().out
        assert "synced binance/BTCUSDT" in shown and "rsi14" in shown
        frame = pd.read_parquet(tmp_path / "lake" / "exports" / "BTCUSDT_1h_analysis.parquet")
        assert 47 <= len(frame) <= 48 and not frame["rsi14"].isna().any()
        emu.reset()
        assert main([*args, "--lake", str(tmp_path / "lake")]) == 0  # only the new tail
        assert len(emu.binance.journal.entries("/api/v3/klines")) <= 1


def test_analyze_sync_needs_a_row_for_the_instrument(tmp_path, capsys):
    config = tmp_path / "instruments.csv"
    config.write_text("instrument,backend,data_symbol,exchange\nETHUSDT,ccxt,ETH/USDT,binance\n")
    args = ["analyze", "BTCUSDT", "--sync", "--config", str(config), "--lake", str(tmp_path)]
    assert main(args) == 1
    assert "has no row for BTCUSDT" in capsys.readouterr().err
