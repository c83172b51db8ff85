"""`barlake stream` end to end against the emulator: runs for --duration and exits 0 with its
metrics, stops cleanly on Ctrl+C, and turns bad input into one line and exit code 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from barlake.cli.main import main
from stream_support import assert_every_bar_once, emulator, stored


@pytest.fixture
def emu():
    with emulator() as emulator_:
        yield emulator_


def stream(emu, *extra: str) -> int:
    return main(["stream", "--exchange", "binance", "--base-url", emu.base_url, "--quiet", *extra])


def test_stream_for_a_duration_exits_zero_and_prints_the_metrics(emu, tmp_path, capsys):
    out = tmp_path / "bars.sqlite"
    started = time.monotonic()
    code = stream(
        emu, "--symbols", "BTC/USDT,ETH/USDT", "--ws-url", emu.binance_ws_url,
        "--duration", "3", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    assert time.monotonic() - started < 3 + 4
    shown = capsys.readouterr().out
    for word in ("messages", "bars", "reconnects 0", "backfilled bars 0", "max latency"):
        assert word in shown
    bars = stored(out)
    assert_every_bar_once(emu, bars)
    assert sorted(bars) == ["BTC/USDT", "ETH/USDT"]


def test_ws_url_defaults_to_the_rest_host(emu, tmp_path, capsys):
    out = tmp_path / "bars.csv"
    code = stream(emu, "--symbol", "BTC/USDT", "--duration", "2.5", "--format", "csv",
                  "--out", str(out))  # fmt: skip
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("symbol,timeframe,timestamp_ms") and len(lines) >= 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exchange", "nosuchx", "--symbol", "BTC/USDT"], "unknown exchange 'nosuchx'"),
        (["--symbol", "NOPE/USDT"], "no spot market 'NOPE/USDT'"),
        (["--symbol", "BTC/USDT", "--timeframe", "1x"], "bad timeframe '1x'"),
        (["--symbol", "BTC/USDT", "--stream", "candles"], "bad stream 'candles'"),
        (["--symbol", "BTC/USDT", "--format", "csv"], "needs --out"),
    ],
)
def test_bad_input_is_one_line_and_exit_one(emu, tmp_path, capsys, args, message):
    out = ["--out", str(tmp_path / "x.sqlite")] if "--format" not in args else []
    code = main(["stream", "--base-url", emu.base_url, "--quiet", "--duration", "2", *out,
                 *(args if "--exchange" in args else ["--exchange", "binance", *args])])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert message in err and len(err.splitlines()) == 1


def test_unwritable_output_is_refused(emu, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = stream(emu, "--symbol", "BTC/USDT", "--out", str(blocker / "bars.sqlite"))
    err = capsys.readouterr().err.strip()
    assert code == 1 and "writable" in err and len(err.splitlines()) == 1


def test_ctrl_c_flushes_and_exits_zero(emu, tmp_path):
    out = tmp_path / "bars.sqlite"
    command = [
        sys.executable, "-m", "barlake.cli.main", "stream", "--exchange", "binance",
        "--symbol", "BTC/USDT", "--base-url", emu.base_url, "--ws-url", emu.binance_ws_url,
        "--out", str(out), "--flush", "1000", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(7)  # imports, markets, then several market minutes
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=20)
    assert child.returncode == 0, stderr.decode()
    assert b"max latency" in stdout
    bars = stored(out)
    assert len(bars["BTC/USDT"]) >= 2
    assert_every_bar_once(emu, bars)
