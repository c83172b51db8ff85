"""`barlake batch` over the loopback emulator: rest tasks fill the lake with the venue's bars and
export them, independent tasks overlap while tasks sharing an output run in file order, a failing
task leaves the others to finish (exit 1), --tasks/--taches choose, and a stop ends it all."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barlake.cli.main import main
from barlake.emulator import Emulator, utc_ms
from barlake.emulator.clock import Accelerated
from barlake.lake import Lake
from barlake.sources.registry import FeedFactory
from barlake.sources.retry import RetryPolicy
from barlake.stream.batch import BatchProgress, BatchReport, TaskStatus, run_batch
from barlake.stream.batch_schema import load_batch
from sync_support import assert_equal_bars

DAY = 24 * 60


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator


def jobs(tmp_path: Path, emu: Emulator, tasks: str, *, archive: bool = True) -> Path:
    """A jobs file whose tasks download from the emulator into tmp_path/lake."""
    path = tmp_path / "jobs.yaml"
    archive_url = f"  archive_url: {emu.archive_url}\n" if archive else ""
    path.write_text(
        f"defaults:\n  exchange: binance\n  base_url: {emu.base_url}\n{archive_url}"
        f"  lake: lake\ntasks:\n{tasks}"
    )
    return path


def rest(name: str, symbol: str, start: str, end: str, *extra: str) -> str:
    keys = ["mode: rest", f"symbol: {symbol}", f"start: {start}", f"end: {end}", *extra]
    return f"  {name}:\n" + "".join(f"    {key}\n" for key in keys)


def run(path: Path, **kw: object) -> BatchReport:
    factory = FeedFactory(RetryPolicy(fail_streak=3, base_s=0.02, cap_s=0.2))
    return run_batch(load_batch(path), factory=factory, **kw)  # type: ignore[arg-type]


def by_name(report: BatchReport) -> dict[str, TaskStatus]:
    return {status.name: status for status in report.statuses}


def klines_symbols(emu: Emulator) -> list[str]:
    return [entry.params["symbol"] for entry in emu.binance.journal.entries("/api/v3/klines")]


def hourly(truth: pd.DataFrame) -> pd.DataFrame:
    """1h bars from 1m ones with pandas, to check what the lake derived."""
    return truth.resample("1h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )


def test_a_rest_task_stores_the_venues_bars_and_exports_the_derived_range(emu, tmp_path):
    start, end = utc_ms("2025-02-27"), utc_ms("2025-03-02T06:00")
    path = jobs(tmp_path, emu, rest("btc", "BTC/USDT", "2025-02-27", "2025-03-02T06:00",
                                    "timeframe: 1h", "out: out/btc_1h.csv"))  # fmt: skip
    report = run(path)
    assert report.exit_code == 0 and report.statuses[0].rows == 78
    lake = Lake(tmp_path / "lake")
    assert_equal_bars(lake.read_arrow("binance", "BTCUSDT", "1m"), emu.bars("BTCUSDT", start, end))
    stored = lake.read("binance", "BTCUSDT", "1h")
    exported = pd.read_csv(tmp_path / "out/btc_1h.csv", index_col="time", parse_dates=True)
    assert list(exported.index) == list(stored.index) and len(stored) == 78
    for name in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(exported[name].to_numpy(), stored[name].to_numpy()), name
    want = hourly(lake.read("binance", "BTCUSDT", "1m"))
    assert np.allclose(stored[want.columns].to_numpy(), want.to_numpy(), rtol=1e-12)
    emu.reset()
    again = run(path)  # the lake has it all: nothing is fetched, the file is written again
    assert again.exit_code == 0 and klines_symbols(emu) == []
    assert again.statuses[0].detail.startswith("78 1h rows to")
    assert "(0 new 1m bars in" in again.statuses[0].detail


def test_several_symbols_export_one_table_each_or_one_file_each(emu, tmp_path):
    start, end = utc_ms("2025-02-27"), utc_ms("2025-02-28")
    both = "symbols: [BTC/USDT, ETH/USDT]"
    path = jobs(tmp_path, emu, (
        rest("db", "x", "2025-02-27", "2025-02-28", "out: out/pairs.sqlite", 'table: "{symbol}_1m"')
        + rest("files", "x", "2025-02-27", "2025-02-28", "out: out/{symbol}.parquet")
    ).replace("symbol: x", both))  # fmt: skip
    report = run(path)
    assert report.exit_code == 0, report.statuses
    assert by_name(report)["files"].after == ("db",)  # both write the same lake series
    with sqlite3.connect(tmp_path / "out/pairs.sqlite") as db:
        for name in ("BTCUSDT", "ETHUSDT"):
            truth = emu.bars(name, start, end).to_pandas()
            query = f"SELECT timestamp_ms, close, volume FROM {name}_1m ORDER BY timestamp_ms"
            rows = pd.read_sql_query(query, db)
            assert rows["timestamp_ms"].tolist() == truth["timestamp_ms"].tolist()
            assert rows["close"].tolist() == truth["close"].tolist()
            frame = pd.read_parquet(tmp_path / f"out/{name}.parquet")
            assert frame["volume"].tolist() == truth["volume"].tolist()


def test_independent_tasks_overlap_and_tasks_sharing_a_file_run_in_file_order(emu, tmp_path):
    emu.binance.faults.add("slow", times=None, seconds=0.1, path="/api/v3/klines")
    path = jobs(tmp_path, emu, (
        rest("btc", "BTC/USDT", "2025-02-27", "2025-03-01", "out: a.csv")
        + rest("eth", "ETH/USDT", "2025-02-27", "2025-03-01", "out: b.csv")
        + rest("sol", "SOL/USDT", "2025-02-27", "2025-03-01", "out: a.csv")
    ), archive=False)  # fmt: skip
    report = run(path)
    assert report.exit_code == 0
    btc, eth, sol = (by_name(report)[name] for name in ("btc", "eth", "sol"))
    assert btc.started < eth.finished and eth.started < btc.finished  # at the same time
    assert (
        sol.after == ("btc",) and sol.started >= btc.finished
    )  # after the one it shares a.csv with
    asked = klines_symbols(emu)
    last_btc = max(i for i, symbol in enumerate(asked) if symbol == "BTCUSDT")
    assert all(i > last_btc for i, symbol in enumerate(asked) if symbol == "SOLUSDT")
    assert {"BTCUSDT", "ETHUSDT"} <= set(asked[: asked.index("SOLUSDT")])
    assert pd.read_csv(tmp_path / "a.csv")["volume"].tolist() == (
        emu.bars("SOLUSDT", utc_ms("2025-02-27"), utc_ms("2025-03-01")).column("volume").to_pylist()
    )


def test_a_failing_task_leaves_the_others_to_finish_and_the_exit_code_is_one(emu, tmp_path, capsys):
    path = jobs(tmp_path, emu, (
        rest("btc", "BTC/USDT", "2025-02-27", "2025-02-28")
        + rest("nope", "NOPE/USDT", "2025-02-27", "2025-02-28")
        + rest("eth", "ETH/USDT", "2025-02-27", "2025-02-28", "timeframe: 4h", "out: eth.csv")
    ))  # fmt: skip
    assert main(["batch", str(path), "--quiet"]) == 1
    shown = capsys.readouterr().out
    assert "2/3 tasks ok; failed: nope" in shown
    assert "binance has no spot market 'NOPE/USDT'" in shown
    lake = Lake(tmp_path / "lake")
    truth = emu.bars("ETHUSDT", utc_ms("2025-02-27"), utc_ms("2025-02-28"))
    assert_equal_bars(lake.read_arrow("binance", "ETHUSDT", "1m"), truth)
    assert len(pd.read_csv(tmp_path / "eth.csv")) == 6
    assert lake.read("binance", "BTCUSDT", "1m").shape[0] == DAY


@pytest.mark.parametrize("flag", ["--tasks", "--taches"])
def test_tasks_and_taches_run_only_the_named_tasks(emu, tmp_path, capsys, flag):
    path = jobs(tmp_path, emu, "".join(
        rest(name, f"{name.upper()}/USDT", "2025-02-27", "2025-02-28")
        for name in ("btc", "eth", "sol")
    ), archive=False)  # fmt: skip
    assert main(["batch", str(path), flag, "sol, eth", "--quiet"]) == 0
    assert set(klines_symbols(emu)) == {"ETHUSDT", "SOLUSDT"}
    assert "2/2 tasks ok" in capsys.readouterr().out
    assert main(["batch", str(path), flag, "btc,bitcoin"]) == 1
    err = capsys.readouterr().err
    assert "--tasks: no task 'bitcoin'" in err and "nothing was run" in err
    assert "BTCUSDT" not in klines_symbols(emu)


def test_check_shows_the_order_and_downloads_nothing(emu, tmp_path, capsys):
    path = jobs(tmp_path, emu, (
        rest("one", "BTC/USDT", "2025-02-27", "2025-02-28", "out: x.csv")
        + rest("two", "ETH/USDT", "2025-02-27", "2025-02-28", "out: x.csv")
    ))  # fmt: skip
    assert main(["batch", str(path), "--check"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "│ two" in line]
    assert lines and lines[0].rstrip("│ ").endswith("one")
    assert len(emu.binance.journal) == 0 and not (tmp_path / "lake").exists()


def test_a_bad_file_runs_nothing_and_lists_every_problem(emu, tmp_path, capsys):
    path = jobs(tmp_path, emu, (
        rest("btc", "BTC/USDT", "2025-02-27", "2025-02-28", "sortie: x.xls")
        + rest("eth", "ETH/USDT", "2025-03-01", "2025-02-28")
    ))  # fmt: skip
    assert main(["batch", str(path)]) == 1
    err = capsys.readouterr().err
    assert "2 problems, nothing was run" in err
    assert "task 'btc', key sortie: cannot tell the format of 'x.xls'" in err
    assert "task 'eth', key end: 2025-02-28 00:00 is not after start" in err
    assert len(emu.binance.journal) == 0 and not (tmp_path / "lake").exists()


class StopWhen(BatchProgress):
    """Sets the batch's stop once `quick` is done and `big` has stored its first page."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop, self.seen = stop, {}

    def changed(self, status: TaskStatus) -> None:
        self.seen[status.name] = status
        quick, big = self.seen.get("quick"), self.seen.get("big")
        if quick and big and quick.state == "ok" and big.rows > 0:
            self.stop.set()


def test_a_stop_ends_running_downloads_after_their_page_and_skips_waiting_tasks(emu, tmp_path):
    emu.binance.faults.add("slow", times=None, seconds=0.05, path="/api/v3/klines")
    path = jobs(tmp_path, emu, (
        rest("big", "BTC/USDT", "2025-01-01", "2025-03-01")
        + rest("quick", "ETH/USDT", "2025-02-27", "2025-02-27T12:00")
        + rest("after_big", "BTC/USDT", "2025-03-01", "2025-03-02")
    ), archive=False)  # fmt: skip
    stop = threading.Event()
    report = run(path, stop=stop, progress=StopWhen(stop))
    status = by_name(report)
    assert report.exit_code == 130 and report.interrupted
    assert status["quick"].state == "ok"
    assert status["big"].state == "stopped" and "stopped" in status["big"].detail
    assert status["after_big"].state == "stopped" and status["after_big"].started is None
    lake = Lake(tmp_path / "lake")
    stored = lake.read_arrow("binance", "BTCUSDT", "1m")
    assert 0 < stored.num_rows < 59 * DAY  # a part, and that part is the venue's
    first, last = stored.column("timestamp_ms")[0].as_py(), stored.column("timestamp_ms")[-1]
    assert_equal_bars(stored, emu.bars("BTCUSDT", first, last.as_py() + 60_000))
    assert len(klines_symbols(emu)) < 59 * DAY // 1000


@pytest.mark.slow
def test_ctrl_c_stops_the_batch_prints_the_summary_and_exits_130(emu, tmp_path):
    emu.binance.faults.add("slow", times=None, seconds=0.2, path="/api/v3/klines")
    path = jobs(tmp_path, emu, rest("big", "BTC/USDT", "2025-01-01", "2025-03-01"), archive=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "barlake.cli.main", "batch", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(klines_symbols(emu)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "stopped" in out and "0/1 tasks ok; stopped before the end" in out
    assert "Traceback" not in err
    stored = Lake(tmp_path / "lake").read_arrow("binance", "BTCUSDT", "1m")
    assert stored.num_rows > 0
    last = stored.column("timestamp_ms")[-1].as_py()
    assert_equal_bars(stored, emu.bars("BTCUSDT", utc_ms("2025-01-01"), last + 60_000))


def test_a_dukascopy_history_task_stores_the_emulators_quotes(emu, tmp_path):
    path = tmp_path / "fx.yaml"
    path.write_text(
        "tasks:\n  fx:\n    mode: rest\n    exchange: dukascopy\n    symbol: EURUSD\n"
        f"    start: 2024-03-04\n    end: 2024-03-06\n    base_url: {emu.dukascopy_url}\n"
        "    lake: lake\n"
    )
    assert run(path).exit_code == 0
    stored = Lake(tmp_path / "lake").read_arrow("dukascopy", "EURUSD", "1m")
    assert_equal_bars(
        stored, emu.dukascopy_bars("EURUSD", utc_ms("2024-03-04"), utc_ms("2024-03-06"))
    )


@pytest.fixture
def live_emu():
    """Market time runs 60x: a 1m candle closes every real second."""
    with Emulator(clock=Accelerated(utc_ms("2025-03-03T12:00"), speed=60)) as emulator:
        yield emulator


def live_jobs(tmp_path: Path, emu: Emulator, tasks: str) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(
        f"defaults:\n  exchange: binance\n  base_url: {emu.base_url}\n"
        f"  ws_url: {emu.binance_ws_url}\n  lake: lake\ntasks:\n{tasks}"
    )
    return path


def stream(name: str, *keys: str) -> str:
    return f"  {name}:\n    mode: stream\n" + "".join(f"    {key}\n" for key in keys)


def assert_bars_are_the_venues(emu: Emulator, symbol: str, rows: pd.DataFrame) -> None:
    assert len(rows) > 0
    for row in rows.itertuples():
        truth = emu.bars(symbol, row.timestamp_ms, row.timestamp_ms + 60_000).to_pylist()[0]
        assert (row.open, row.close, row.volume) == (truth["open"], truth["close"], truth["volume"])


def test_stream_tasks_record_live_data_beside_rest_tasks_and_one_failure_fails_only_itself(
    live_emu, tmp_path
):
    emu = live_emu
    path = live_jobs(tmp_path, emu, (
        stream("candles", "symbols: [BTC/USDT, ETH/USDT]", "duration: 3", "out: live.sqlite")
        + stream("tape", "symbol: BTC/USDT", "stream: trades", "duration: 2", "out: tape.csv")
        + stream("sol_live", "symbol: SOL/USDT", "format: lake", "duration: 3")
        + stream("nope_live", "symbol: NOPE/USDT", "duration: 2", "out: nope.csv")
        + rest("sol_hist", "SOL/USDT", "2025-03-03T06:00", "2025-03-03T07:00")
        + rest("eth_hist", "ETH/USDT", "2025-03-02", "2025-03-03")
    ))  # fmt: skip
    factory = FeedFactory(RetryPolicy(fail_streak=3, base_s=0.02, cap_s=0.2), clock=emu.clock)
    report = run_batch(load_batch(path), factory=factory)
    status = by_name(report)
    assert report.exit_code == 1
    assert {name: s.state for name, s in status.items() if s.state != "ok"} == {
        "nope_live": "failed"
    }
    assert "NOPE/USDT" in status["nope_live"].detail
    candles, sol_live, sol_hist = status["candles"], status["sol_live"], status["sol_hist"]
    assert status["eth_hist"].started < candles.finished  # a download beside the streams
    assert sol_hist.after == ("sol_live",) and sol_hist.started >= sol_live.finished
    with sqlite3.connect(tmp_path / "live.sqlite") as db:
        bars = pd.read_sql_query("SELECT * FROM ohlcv", db)
    assert candles.rows == len(bars)
    for symbol, rows in bars.groupby("symbol"):
        assert_bars_are_the_venues(emu, symbol.replace("/", ""), rows)
    tape = pd.read_csv(tmp_path / "tape.csv", dtype={"id": str})
    assert status["tape"].rows == len(tape) > 0
    truth = emu.trades("BTCUSDT", int(tape["timestamp_ms"].min()), emu.clock()).to_pandas()
    truth = truth.set_index(truth["id"].astype(str))
    assert tape["price"].tolist() == truth.loc[tape["id"], "price"].tolist()
    stored = Lake(tmp_path / "lake").read_arrow("binance", "SOLUSDT", "1m").to_pandas()
    assert_bars_are_the_venues(emu, "SOLUSDT", stored)
    assert len(stored) >= 60 + 1  # the rest hour and the live minutes, in one series


def test_a_stream_without_duration_runs_until_the_batch_is_stopped(live_emu, tmp_path):
    path = live_jobs(tmp_path, live_emu, stream(
        "forever", "symbol: BTC/USDT", "stream: trades", "out: tape.csv"
    ))  # fmt: skip
    stop = threading.Event()

    class StopOnRows(BatchProgress):
        def changed(self, status: TaskStatus) -> None:
            if status.rows >= 20:
                stop.set()

    report = run_batch(load_batch(path), stop=stop, progress=StopOnRows())
    [forever] = report.statuses
    assert report.exit_code == 130 and forever.state == "stopped"
    written = pd.read_csv(tmp_path / "tape.csv")
    assert len(written) == forever.rows >= 20  # everything counted was flushed
