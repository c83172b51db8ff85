"""Killing a writer or racing two of them never leaves a partial month or loses rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from barlake.lake import Lake

WRITER = Path(__file__).with_name("writer_proc.py")


def spawn(lake: Path, mode: str, seed: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(lake), mode, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def baseline(lake: Lake) -> pd.DatetimeIndex:
    index = pd.date_range("2024-01-01", "2024-02-29 23:59", freq="1min", tz="UTC")
    close = np.full(len(index), 50.0)
    frame = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 0.5},
        index=index,
    )
    lake.write("test", "KILL", "1m", frame)
    return index


def assert_months_whole(lake: Lake, key) -> None:
    for year, month in lake.months(key):
        table = pq.read_table(lake.path(key, year, month))  # must never raise
        ts = table.column("timestamp_ms").to_numpy()
        assert np.all(np.diff(ts) > 0), f"{year}-{month} not sorted/unique"
        assert table.column_names[:6] == ["timestamp_ms", "open", "high", "low", "close", "volume"]


@pytest.mark.slow
def test_killing_a_writer_at_random_points_never_loses_or_tears_a_month(tmp_path):
    lake = Lake(tmp_path)
    key = lake.key("test", "KILL", "1m")
    base_index = baseline(lake)
    rng = np.random.default_rng(7)
    committed: set[int] = set()
    for round_ in range(12):
        proc = spawn(tmp_path, "append", round_)
        time.sleep(float(rng.uniform(0.8, 2.5)))  # past start-up, somewhere inside a write loop
        proc.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, stderr
        committed.update(int(line) for line in stdout.split())
        assert_months_whole(lake, key)
        frame = lake.read("test", "KILL", "1m")
        assert base_index.isin(frame.index).all(), "a baseline row was lost"
        for k in committed:  # every batch a writer finished is there in full
            start = pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(days=3 * (k - 1))
            chunk = frame.loc[start : start + pd.Timedelta(minutes=3 * 1440 - 1)]
            assert len(chunk) == 3 * 1440
            # a later round may rewrite the same batch number: its tag is still k
            assert (chunk["volume"] == float(k)).all()
    assert committed, "no writer ever finished a batch: the test proved nothing"
    # The killed writers' locks do not block the next writer.
    started = time.monotonic()
    result = lake.write("test", "KILL", "1m", frame.iloc[:10])
    assert result.rows == 10
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_two_processes_merging_into_one_month_lose_nothing(tmp_path):
    procs = [spawn(tmp_path, "stripe", parity) for parity in (0, 1)]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
    frame = Lake(tmp_path).read("test", "RACE", "1m")
    expected = pd.date_range("2024-01-01", periods=40 * 120, freq="1min", tz="UTC")
    assert frame.index.equals(expected)
    parity = (frame.index.minute % 2).to_numpy()
    assert (frame["close"].to_numpy() == 100.0 + parity).all()
    assert set(np.unique(frame["volume"])) == {float(b + 1) for b in range(40)}


def test_a_stale_temp_file_is_never_read(tmp_path):
    lake = Lake(tmp_path)
    baseline(lake)
    key = lake.key("test", "KILL", "1m")
    month = lake.path(key, 2024, 1)
    (month.parent / f"{month.name}.tmp-999-dead").write_bytes(b"half a parquet file")
    frame = lake.read("test", "KILL", "1m", "2024-01-01", "2024-01-02")
    assert len(frame) == 1440
    assert os.path.exists(month)
