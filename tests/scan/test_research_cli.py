"""`barlake indicators` and `barlake scan` end to end over a tmp lake (commands registered on a
fresh Typer app, exactly as cli/main.py registers them)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from barlake.cli.research_commands import register
from barlake.lake import Lake


@pytest.fixture
def invoke(lake: Lake):
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--lake", str(lake.root)])
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    return run


def test_indicators_writes_the_enriched_frame_as_zstd_parquet(invoke, lake: Lake) -> None:
    output = invoke("indicators", "binance", "UPUSDT", "1h", "--start", "2024-01-02")
    path = lake.root / "exports" / "UPUSDT_1h_ta.parquet"
    assert str(path) in output.replace("\n", "")
    frame = pd.read_parquet(path)
    assert frame.index[0] == pd.Timestamp("2024-01-02", tz="UTC")
    assert {"sma50", "rsi14", "MACD_12_26_9", "BBU_20_2.0", "STOCHd_14_3_3"} <= set(frame.columns)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_indicators_takes_a_yaml_spec_and_an_output_path(
    invoke, lake: Lake, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("- sma20\n- rsi: 7\n")
    target = tmp_path / "out.parquet"
    invoke("indicators", "binance", "UPUSDT", "1h", "--spec", str(spec), "--out", str(target))
    assert list(pd.read_parquet(target).columns)[-2:] == ["sma20", "rsi7"]


def test_scan_prints_a_ranked_table_lists_skips_and_writes_csv(invoke, tmp_path: Path) -> None:
    target = tmp_path / "scan.csv"
    output = invoke(
        "scan",
        "--universe",
        "binance",
        "--filter",
        "rsi14 > 0",
        "--top",
        "2",
        "--out",
        str(target),
    )
    assert "UPUSDT" in output
    assert "skipped binance/NEWUSDT: 30 1h bars, sma50 needs at least 50" in output
    csv = pd.read_csv(target)
    assert list(csv["rank"]) == [1, 2, 3]
    assert csv.loc[0, "instrument"] == "UPUSDT"


def test_scan_reports_a_bad_expression_as_a_config_error(lake: Lake) -> None:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(
        app, ["scan", "--universe", "binance", "--filter", "rsi14 >", "--lake", str(lake.root)]
    )
    assert result.exit_code != 0
    assert "expected a number, a name or '('" in str(result.exception)
