"""How `barlake app` starts Streamlit: a child `python -m streamlit run` with the folders in env.

This module must not import streamlit: it runs in the CLI process, which only checks that
streamlit is installed and then hands over to it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from barlake.app.settings import INSTRUMENTS_ENV, LAKE_ENV, RUNS_ENV, resolve_runs
from barlake.errors import ConfigError
from barlake.lake.store import resolve_lake

ENTRY = Path(__file__).with_name("streamlit_app.py")
LOOPBACK = "127.0.0.1"
INSTALL_HINT = "pip install 'barlake[app]'"


def missing_packages() -> list[str]:
    """Which of the `app` extra's packages (streamlit, plotly) cannot be imported."""
    return [name for name in ("streamlit", "plotly") if importlib.util.find_spec(name) is None]


def check_installed() -> None:
    """Say how to get the `app` extra rather than fail with an ImportError traceback."""
    missing = missing_packages()
    if missing:
        raise ConfigError(f"{' and '.join(missing)} not installed: run `{INSTALL_HINT}`")


def streamlit_argv(host: str, port: int) -> list[str]:
    """The command line of the Streamlit server (headless: no browser opened, no e-mail prompt)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(ENTRY),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def app_environment(
    lake: Path | None, runs: Path | None, instruments: Path | None = None
) -> dict[str, str]:
    """This process's environment plus the absolute lake / runs (/ instruments) folders."""
    env = dict(os.environ)
    env[LAKE_ENV] = str(resolve_lake(lake).resolve())
    env[RUNS_ENV] = str(resolve_runs(runs).resolve())
    if instruments is not None:
        env[INSTRUMENTS_ENV] = str(instruments.resolve())
    return env


def run_app(
    lake: Path | None, runs: Path | None, host: str = LOOPBACK, port: int = 8501,
    instruments: Path | None = None,
) -> int:  # fmt: skip
    """Serve the app until Ctrl+C; returns Streamlit's exit code."""
    check_installed()
    if not 0 < port < 65536:
        raise ConfigError(f"bad port {port}: use 1-65535 (8501 is Streamlit's default)")
    env = app_environment(lake, runs, instruments)
    try:
        return subprocess.run(streamlit_argv(host, port), env=env, check=False).returncode
    except KeyboardInterrupt:  # Ctrl+C reaches the child too; it shuts itself down
        return 0
