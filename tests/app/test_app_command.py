"""`barlake app`: the Streamlit command line, the folders it passes, and its errors.

The served app itself is exercised end to end in test_browser.py.
"""

from __future__ import annotations

import subprocess
import sys

from barlake.app.launch import ENTRY, app_environment, streamlit_argv
from barlake.cli.main import main

HIDE_STREAMLIT = (
    "import sys; sys.modules['streamlit'] = None; "  # as if the app extra were not installed
    "from barlake.cli.main import main; sys.exit(main(['app', '--lake', 'x']))"
)


def test_streamlit_is_run_headless_on_the_given_address_and_port():
    argv = streamlit_argv("127.0.0.1", 8765)
    assert argv[:5] == [sys.executable, "-m", "streamlit", "run", str(ENTRY)]
    pairs = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8765"
    assert pairs["--server.headless"] == "true"
    assert ENTRY.is_file()


def test_folders_reach_the_app_as_absolute_env_vars(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = app_environment(tmp_path / "lake", None, tmp_path / "i.csv")
    assert env["BARLAKE_LAKE"] == str(tmp_path / "lake")
    assert env["BARLAKE_RUNS"] == str(tmp_path / "runs")
    assert env["BARLAKE_INSTRUMENTS"] == str(tmp_path / "i.csv")


def test_the_lake_defaults_like_every_other_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BARLAKE_LAKE", str(tmp_path / "env-lake"))
    monkeypatch.delenv("BARLAKE_RUNS", raising=False)
    env = app_environment(None, None)
    assert env["BARLAKE_LAKE"] == str(tmp_path / "env-lake")
    assert "BARLAKE_INSTRUMENTS" not in env or env["BARLAKE_INSTRUMENTS"] != ""


def test_help_shows_loopback_as_the_default_host(capsys):
    assert main(["app", "--help"]) == 0
    text = capsys.readouterr().out
    assert "127.0.0.1" in text and "--runs" in text and "8501" in text


def test_a_bad_port_is_refused_before_anything_starts(capsys, tmp_path):
    assert main(["app", "--lake", str(tmp_path), "--port", "70000"]) == 1
    assert "bad port 70000" in capsys.readouterr().err


def test_without_streamlit_it_says_which_extra_to_install():
    done = subprocess.run(
        [sys.executable, "-c", HIDE_STREAMLIT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "pip install 'barlake[app]'" in done.stderr and "Traceback" not in done.stderr
