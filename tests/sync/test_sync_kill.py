"""Kill the sync process at many points, re-run, and get the lake an uninterrupted run makes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from barlake.emulator import Emulator
from barlake.lake import Lake
from barlake.lake.verify import verify

KILLS = 12


def instruments(emu: Emulator, path: Path) -> Path:
    path.write_text(
        "instrument,backend,data_symbol,exchange,start,base_url,archive_url\n"
        f"BTCUSDT,ccxt,BTC/USDT,binance,2025-01-01,{emu.base_url},{emu.archive_url}\n"
        f"ETHUSDT,ccxt,ETH/USDT,binance,2025-01-01,{emu.base_url},\n"  # REST only: many pages
        f"SOLUSDT,ccxt,SOL/USDT,binance,2025-02-20,{emu.base_url},\n"
    )
    return path


def start_sync(config: Path, lake: Path) -> subprocess.Popen:
    args = ["sync", "--config", str(config), "--lake", str(lake), "--end", "2025-03-03T07:00"]
    return subprocess.Popen(
        [sys.executable, "-m", "barlake.cli.main", *args, "--derive", "1h", "4h", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def requests(emu: Emulator) -> int:
    return len(emu.binance.journal) + len(emu.archive.journal)


def kill_when(process: subprocess.Popen, ready) -> bool:
    """SIGKILL once `ready()` holds; False if the run finished first."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    process.wait()
    return False


def snapshot(root: Path) -> dict[str, object]:
    lake = Lake(root)
    return {
        str(key): (lake.read_arrow(key.source, key.instrument, key.timeframe), lake.coverage(key))
        for key in lake.series()
    }


@pytest.mark.slow
def test_killing_the_sync_anywhere_then_rerunning_gives_the_uninterrupted_lake(tmp_path):
    rng = random.Random(7)
    with Emulator() as emu:
        config = instruments(emu, tmp_path / "instruments.csv")
        reference = tmp_path / "reference"
        assert start_sync(config, reference).wait(timeout=300) == 0
        total = requests(emu)
        lake = tmp_path / "killed"
        kills = 0
        for attempt in range(KILLS * 2):
            if kills == KILLS:
                break
            before = requests(emu)
            process = start_sync(config, lake)
            if attempt % 2:  # by request count: between pages, mid-month, mid-archive
                step = rng.randint(1, max(2, total // (KILLS * 2)))
                killed = kill_when(process, lambda b=before, s=step: requests(emu) >= b + s)
            else:  # by time: anywhere, writes and derive included
                due = time.monotonic() + rng.uniform(1.0, 2.5)
                killed = kill_when(process, lambda d=due: time.monotonic() >= d)
            kills += killed
            if lake.exists():  # readable, valid files; only a killed writer's temp file may linger
                found = verify(Lake(lake))
                assert all("temp file" in str(problem) for problem in found), found
        assert kills >= 10, f"only {kills} kills landed before the sync finished"
        assert start_sync(config, lake).wait(timeout=300) == 0
    want, got = snapshot(reference), snapshot(lake)
    assert got.keys() == want.keys()
    for name, (table, coverage) in want.items():
        assert got[name][0].equals(table), name
        assert got[name][1] == coverage, name
