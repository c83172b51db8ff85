"""`barlake optimize` end to end: the run and its subcommands through the CLI, bad input as
one clear error, Ctrl+C from the terminal, and a killed run that is still reported and
resumed. In-process commands use a fresh Typer app (as cli/main.py registers them); the
terminal tests run the CLI in its own process group, as a shell would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from barlake.cli import main as cli_main
from barlake.cli.optimize_commands import register
from barlake.errors import ConfigError, DataError
from barlake.lake import Lake
from barlake.optimize import OptimizeConfig, build_report, replay_manifest, start

SERIES = ["--source", "test", "--instrument", "WALK", "--timeframe", "5m"]
SMALL = [
    "--strategies",
    "ma_cross,range_breakout",
    "--max-trials",
    "24",
    "--population",
    "8",
    "--min-trades",
    "3",
]

# The CLI as a shell runs it: `barlake` once cli/main.py lists this module, else the same app
# built from the module itself.
if "barlake.cli.optimize_commands" in cli_main.COMMAND_MODULES:
    CLI = [str(Path(sys.executable).with_name("barlake"))]
else:
    CLI = [sys.executable, "-c", "import sys, typer; from barlake.cli.optimize_commands import register; "
           "from barlake.errors import BarlakeError\napp = typer.Typer(); register(app)\n"
           "try: app()\nexcept BarlakeError as e: print('error:', e, file=sys.stderr); sys.exit(1)"]  # fmt: skip


def walk_bars(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 2e-3, n)))
    open_ = np.r_[100.0, close[:-1]]
    index = pd.date_range("2024-03-01", periods=n, freq="5min", tz="UTC", name="time")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.001,
                         "low": np.minimum(open_, close) * 0.999, "close": close, "volume": 1.0}, index=index)  # fmt: skip


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    Lake(root).write("test", "WALK", "5m", walk_bars(5760, seed=4))
    return root


@pytest.fixture
def invoke(lake_dir: Path):
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str, ok: bool = True, lake: bool = True):
        result = runner.invoke(app, [*args, *(["--lake", str(lake_dir)] if lake else [])])
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    return run


def test_a_run_then_report_manifest_and_stop_through_the_cli(invoke, lake_dir, tmp_path):
    runs = tmp_path / "runs"
    out = invoke("optimize", *SERIES, *SMALL, "--workers", "1", "--runs-dir", str(runs)).output
    (run_dir,) = runs.iterdir()
    assert f"run {run_dir}: complete" in out and "Champion:" in out
    assert "report.json trials.csv pareto.csv champion.csv" in out
    report = invoke("optimize", "report", str(run_dir)).output
    assert "24/24" in report and "Champion:" in report
    manifest = tmp_path / "paper" / "champion.json"
    assert (
        f"wrote {manifest}"
        in invoke("optimize", "manifest", str(run_dir), "--out", str(manifest)).output
    )
    data = json.loads(manifest.read_text())
    stats = replay_manifest(manifest, lake=lake_dir)
    assert stats["total_return_pct"] == data["metrics"]["test"]["total_return_pct"]
    assert "stop requested" in invoke("optimize", "stop", str(run_dir), lake=False).output
    assert (run_dir / "stop.flag").exists()


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["--strategies", "ma_cross,nope"], ConfigError, "unknown strategy 'nope'"),
        (["--dd-max", "0"], ConfigError, "dd_max must be > 0"),
        (["--dd-max", "-3"], ConfigError, "dd_max must be > 0"),
        (["--start", "2023-01-01", "--end", "2023-01-02"], DataError, "no 5m bars for test/WALK"),
        (["--start", "2024-03-03", "--end", "2024-03-02"], ConfigError, "start"),
        (["--storage", "sqlite:///x.db"], ConfigError, "database is locked"),
    ],
)
def test_bad_input_is_one_clear_error(invoke, tmp_path, args, error, message):
    result = invoke("optimize", *SERIES, *args, "--runs-dir", str(tmp_path), ok=False)
    assert isinstance(result.exception, error) and message in str(result.exception)
    assert not list(tmp_path.glob("*_WALK_5m"))  # refused before any run folder is made


def test_a_missing_series_option_and_an_unwritable_run_folder_are_clear_errors(invoke, tmp_path):
    result = invoke("optimize", "--source", "test", "--instrument", "WALK", ok=False)
    assert isinstance(result.exception, ConfigError) and "--timeframe" in str(result.exception)
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    result = invoke("optimize", *SERIES, "--runs-dir", str(blocker), ok=False)
    assert isinstance(result.exception, ConfigError) and "cannot create the run folder" in str(
        result.exception
    )
    result = invoke("optimize", "report", str(tmp_path), ok=False)
    assert isinstance(result.exception, ConfigError) and "is not a run folder" in str(
        result.exception
    )


def test_a_journal_run_cannot_be_joined_from_another_machine(invoke, lake_dir, tmp_path):
    outcome = start(OptimizeConfig("test", "WALK", "5m", strategies=("ma_cross",), max_trials=4, population=4),
                    lake=lake_dir, runs_dir=tmp_path, processes=False)  # fmt: skip
    context = json.loads((outcome.run_dir / "context.json").read_text())
    (outcome.run_dir / "context.json").write_text(json.dumps(context | {"host": "another-host"}))
    result = invoke("optimize", "join", str(outcome.run_dir), ok=False)
    assert isinstance(result.exception, ConfigError) and "journal file on another-host" in str(
        result.exception
    )


def launch(lake_dir: Path, runs: Path) -> subprocess.Popen:
    args = [*CLI, "optimize", *SERIES, "--strategies", "ma_cross,rsi_reversion,range_breakout",
            "--max-trials", "300", "--population", "25", "--min-trades", "3", "--workers", "2",
            "--runs-dir", str(runs), "--lake", str(lake_dir)]  # fmt: skip
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def wait_for_trials(runs: Path, count: int, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list(runs.glob("*/progress.jsonl"))
        if found and found[0].read_text().count('"event": "trial"') >= count:
            return found[0].parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no trials recorded in time")


def test_ctrl_c_lets_every_worker_finish_its_trial_and_leaves_a_resumable_run(lake_dir, tmp_path):
    proc = launch(lake_dir, tmp_path)
    run_dir = wait_for_trials(tmp_path, 30, proc)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl+C
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "stopped" in stdout and "barlake optimize resume" in stdout
    assert (run_dir / "stop.flag").exists()
    events = [json.loads(line) for line in (run_dir / "progress.jsonl").read_text().splitlines()]
    assert any(e["event"] == "stop_requested" and e["by"] == "ctrl-c" for e in events)
    assert [e["reason"] for e in events if e["event"] == "worker_finished"] == [
        "stopped",
        "stopped",
    ]
    assert not any(e["event"] == "worker_failed" for e in events)
    trials = pd.read_csv(run_dir / "trials.csv")
    assert len(trials) == sum(e["event"] == "trial" for e in events) < 900  # nothing lost, not done


def test_a_killed_run_is_still_reported_and_resumes_to_the_uninterrupted_result(lake_dir, tmp_path):
    proc = launch(lake_dir, tmp_path / "killed")
    run_dir = wait_for_trials(tmp_path / "killed", 30, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # parent and workers die mid-trial
    proc.wait(timeout=30)
    report = build_report(run_dir)
    assert report.summary["state"] == "partial" and report.summary["last_status"] == "running"
    assert 30 <= report.summary["trials"]["done"] < 900
    assert (run_dir / "trials.csv").exists() and (run_dir / "report.json").exists()
    resumed = subprocess.run([*CLI, "optimize", "resume", str(run_dir), "--lake", str(lake_dir)],
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_dir}: complete" in resumed.stdout
    config = OptimizeConfig("test", "WALK", "5m", strategies=("ma_cross", "rsi_reversion", "range_breakout"),
                            max_trials=300, population=25, min_trades=3)  # fmt: skip
    reference = start(config, lake=lake_dir, runs_dir=tmp_path / "reference", processes=False)
    drop = ["optuna_number", "worker", "seconds"]
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "trials.csv").drop(columns=drop),
                                  pd.read_csv(reference.run_dir / "trials.csv").drop(columns=drop))  # fmt: skip
