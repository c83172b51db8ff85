"""`barlake emulate` serves until Ctrl+C and prints where; bad fault specs fail before serving."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import typer
from typer.testing import CliRunner

from barlake.cli.emulate_command import register
from barlake.errors import ConfigError

# The command on its own Typer app, as cli/main.py mounts it.
SCRIPT = (
    "import typer; from barlake.cli.emulate_command import register; "
    "app = typer.Typer(); register(app); app()"
)


def test_emulate_prints_the_urls_serves_and_stops_on_ctrl_c():
    args = [sys.executable, "-c", SCRIPT, "--port", "0", "--symbols", "BTCUSDT,DOGEUSDT"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        urls = {line.split()[0]: line.split()[1] for line in lines}
        assert set(urls) == {"binance", "archive", "hyperliquid", "symbols"}
        assert urls["symbols"] == "BTCUSDT" and "DOGEUSDT" in lines[3]
        with urllib.request.urlopen(urls["binance"] + "/api/v3/exchangeInfo", timeout=30) as reply:
            names = [s["symbol"] for s in json.load(reply)["symbols"]]
        assert names == ["BTCUSDT", "DOGEUSDT"]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out


def test_a_bad_fault_spec_is_a_config_error_naming_the_item():
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["--faults", "binance:teapot"])
    assert isinstance(result.exception, ConfigError)
    assert "binance:teapot" in str(result.exception)


def test_help_names_every_option():
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["--help"])
    for option in ("--port", "--symbols", "--faults"):
        assert option in result.output
