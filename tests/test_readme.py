"""Every README example runs: console lines through the real CLI, python blocks in order."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from barlake.emulator import Emulator

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```(console|python)\n(.*?)```", re.DOTALL)
BARLAKE = Path(sys.executable).with_name("barlake")


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(README.read_text())]


def commands() -> list[str]:
    lines = []
    for kind, body in blocks():
        if kind == "console":
            lines += [line[2:] for line in body.splitlines() if line.startswith("$ ")]
    return lines


def test_readme_first_screen_gives_the_two_set_up_commands():
    head = README.read_text().split("---")[0]
    assert "make demo" in head and "make test" in head


EMULATOR_PORT = 18741  # the README's sync examples point at `barlake emulate --port 18741`


@pytest.mark.slow
def test_every_readme_example_runs_in_order(tmp_path):
    with Emulator(port=EMULATOR_PORT):
        run_examples(tmp_path)


def run_examples(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BARLAKE_LAKE"}
    env["PATH"] = f"{BARLAKE.parent}{os.pathsep}{env.get('PATH', '')}"
    ran = 0
    for line in commands():
        argv = shlex.split(line)
        assert argv[0] == "barlake", f"README console lines run barlake only: {line}"
        proc = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        ran += 1
    assert ran >= 10
    namespace: dict[str, object] = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for kind, body in blocks():
            if kind == "python":
                exec(compile(body, str(README), "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "data/ohlcv/sample/BTCUSDT/1d/_derive.json").exists()
