"""`barlake backtest` end to end over the demo lake (the command registered on a fresh Typer app,
exactly as cli/main.py registers it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import barlake
from barlake.backtest import from_signals
from barlake.cli.backtest_commands import register
from barlake.demo import run_demo
from barlake.errors import ConfigError, DataError
from barlake.lake import Lake
from barlake.strategies import get_strategy

SERIES = ("--source", "sample", "--instrument", "BTCUSDT")


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "data"
    run_demo(Lake(root))
    return root


@pytest.fixture
def invoke(demo_lake: Path):
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, [*args, "--lake", str(demo_lake)])
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    return run


def test_backtest_prints_the_stats_and_last_trades_the_library_computes(
    invoke, demo_lake, tmp_path
):
    report = tmp_path / "out" / "report.html"
    result = invoke(
        "ma_cross",
        *SERIES,
        "--timeframe",
        "5m",
        "--param",
        "fast=5",
        "--param",
        "slow=20",
        "--sl",
        "0.5",
        "--report",
        str(report),
        "--trades",
        "3",
    )
    bars = barlake.read("sample", "BTCUSDT", "5m", lake=demo_lake)
    signals = get_strategy("ma_cross").signals(bars, fast=5, slow=20)
    expected = from_signals(bars, signals.entries, signals.exits, sl_pct=0.5)
    text = result.output
    assert "ma_cross(fast=5, slow=20, kind=sma)" in text
    assert f"{expected.stats['total_return_pct']:,.6g}" in text
    assert f"last 3 of {len(expected.trades)} trades" in text
    assert f"{expected.trades.pnl.iloc[-1]:,.6g}" in text
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Plotly.newPlot" in page
    assert "sample/BTCUSDT 5m" in page and "exit_reason" in page


def test_backtest_runs_a_rules_file_with_an_external_series(invoke, tmp_path):
    stamps = pd.date_range("2024-03-01", periods=72, freq="1h", tz="UTC")
    pd.DataFrame({"time": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "score": [0.5, -0.5] * 36}).to_csv(
        tmp_path / "mood.csv", index=False
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'name: mood\nentry: "mood > 0 and rsi14 < 60"\nexit: "mood < 0"\nexternal:\n  mood: {path: mood.csv, column: score}\n'
    )
    text = invoke(
        "rules", *SERIES, "--rules", str(rules), "--timeframe", "1h", "--fees-bps", "0"
    ).output
    assert "backtest mood" in text and "trades" in text


def test_backtest_grid_mode_and_a_short_window(invoke):
    text = invoke(
        "rsi_reversion",
        *SERIES,
        "--timeframe",
        "1m",
        "--start",
        "2024-03-02",
        "--end",
        "2024-03-03",
        "--mode",
        "grid",
        "--size",
        "0.2",
    ).output
    assert "exposure_pct" in text


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("no_such", *SERIES), ConfigError),
        (("ma_cross", *SERIES, "--param", "fast=80", "--param", "slow=20"), ConfigError),
        (("ma_cross", *SERIES, "--param", "fast"), ConfigError),
        (("rules", *SERIES), ConfigError),
        (("ma_cross", "--source", "sample", "--instrument", "NOPE"), DataError),
        (("ma_cross", *SERIES, "--mode", "pyramid"), ConfigError),
    ],
)
def test_bad_input_is_refused_with_a_barlake_error(invoke, args, error):
    result = invoke(*args, ok=False)
    assert result.exit_code != 0 and isinstance(result.exception, error)
