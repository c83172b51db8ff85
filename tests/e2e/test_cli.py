"""The CLI end to end over a tmp lake: exit codes, one-line errors, nothing damaged on bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import barlake
from barlake.cli.main import main

BARLAKE = [sys.executable, "-m", "barlake.cli.main"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*BARLAKE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    index = pd.date_range("2024-05-03 20:00", periods=8 * 60, freq="1min", tz="UTC")
    frame = pd.DataFrame(
        {
            "time": index.strftime("%Y-%m-%d %H:%M:%S"),
            "open": 1.0,
            "high": 2.0,
            "low": 0.5,
            "close": 1.5,
            "volume": 3.0,
        }
    )
    path = tmp_path / "bars.csv"
    frame.to_csv(path, index=False)
    return path


def test_import_derive_ls_export_and_sql_work_from_the_cli(tmp_path, csv_file):
    lake = str(tmp_path / "lake")
    assert (
        main(
            [
                "import",
                str(csv_file),
                "--source",
                "broker",
                "--instrument",
                "EURUSD",
                "--lake",
                lake,
            ]
        )
        == 0
    )
    assert main(["derive", "--timeframes", "15m", "1h", "--lake", lake]) == 0
    hourly = barlake.read("broker", "EURUSD", "1h", lake=lake)
    assert list(hourly.index.hour) == [20, 21, 22, 23, 0, 1, 2, 3]
    assert (hourly["volume"] == 180.0).all()
    out = tmp_path / "eur.sqlite"
    for _ in range(2):  # idempotent
        assert (
            main(
                [
                    "export",
                    "broker",
                    "EURUSD",
                    "1h",
                    "--format",
                    "sqlite",
                    "--out",
                    str(out),
                    "--lake",
                    lake,
                ]
            )
            == 0
        )
    with sqlite3.connect(out) as db:
        assert db.execute("SELECT count(*), sum(volume) FROM ohlcv").fetchone() == (8, 1440.0)
    listing = run("ls", "--lake", lake)
    assert listing.returncode == 0
    assert "EURUSD" in listing.stdout and "15m" in listing.stdout and "480" in listing.stdout
    query = run(
        "sql", "SELECT timeframe, count(*) AS n FROM ohlcv GROUP BY 1 ORDER BY 1", "--lake", lake
    )
    assert query.returncode == 0 and "32" in query.stdout


def test_lake_location_from_the_environment_variable(tmp_path, csv_file):
    env_lake = tmp_path / "from_env"
    proc = subprocess.run(
        [*BARLAKE, "import", str(csv_file), "--source", "b", "--instrument", "X"],
        capture_output=True,
        text=True,
        env={**_env(), "BARLAKE_LAKE": str(env_lake)},
    )
    assert proc.returncode == 0, proc.stderr
    assert (env_lake / "ohlcv/b/X/1m/2024/05.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "{csv}", "--source", "b", "--instrument", "../x"], "bad instrument name"),
        (["import", "{tmp}/nope.csv", "--source", "b", "--instrument", "X"], "no such file"),
        (["derive", "--timeframes", "7x"], "bad timeframe"),
        (["read", "b", "X", "1m", "--start", "2024-13-45"], "bad start"),
        (
            ["read", "b", "X", "1m", "--start", "2024-02-01", "--end", "2024-01-01"],
            "not before end",
        ),
        (["export", "b", "X", "1m", "--format", "xlsx", "--out", "{tmp}/x.xlsx"], "format"),
        (["sql", "SELECT nope FROM ohlcv"], "SQL failed"),
    ],
)
def test_bad_input_gives_one_line_and_a_non_zero_exit(tmp_path, csv_file, args, message):
    lake = tmp_path / "lake"
    assert (
        main(["import", str(csv_file), "--source", "b", "--instrument", "X", "--lake", str(lake)])
        == 0
    )
    before = sorted((p, p.stat().st_mtime_ns) for p in lake.rglob("*") if p.is_file())
    argv = [a.format(csv=csv_file, tmp=tmp_path) for a in args]
    proc = run(*argv, "--lake", str(lake))
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    after = sorted((p, p.stat().st_mtime_ns) for p in lake.rglob("*") if p.is_file())
    assert after == before


def test_verify_reports_a_corrupt_file_and_repair_quarantines_it(tmp_path, csv_file):
    lake = tmp_path / "lake"
    assert (
        main(["import", str(csv_file), "--source", "b", "--instrument", "X", "--lake", str(lake)])
        == 0
    )
    month = lake / "ohlcv/b/X/1m/2024/05.parquet"
    month.write_bytes(b"garbage")
    checked = run("verify", "--lake", str(lake))
    assert (
        checked.returncode == 1
        and "05.parquet" in checked.stdout
        and "unreadable" in checked.stdout
    )
    repaired = run("verify", "--repair", "--lake", str(lake))
    assert repaired.returncode == 0, repaired.stdout
    assert not month.exists()
    assert list((lake / "_quarantine").rglob("*.parquet"))
    key = barlake.Lake(lake).key("b", "X", "1m")
    start = int(pd.Timestamp("2024-05-03 20:00", tz="UTC").value // 10**6)
    assert barlake.Lake(lake).missing(key, start, start + 60_000) == [(start, start + 60_000)]
    assert run("verify", "--lake", str(lake)).returncode == 0


def test_help_lists_every_command():
    proc = run("--help")
    assert proc.returncode == 0
    for name in ("demo", "import", "derive", "export", "ls", "sql", "verify", "read"):
        assert name in proc.stdout


def test_demo_runs_offline_into_the_given_lake(tmp_path):
    proc = run("demo", "--lake", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    frame = barlake.read("sample", "BTCUSDT", "4h", lake=tmp_path / "demo")
    assert len(frame) == 18
    assert frame.index[0] == pd.Timestamp("2024-03-01", tz="UTC")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "BARLAKE_LAKE"}
