"""`barlake sync` end to end over the emulator: plan, sync, re-run, bad input, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from barlake.cli.main import main
from barlake.emulator import Emulator
from barlake.lake import Lake

HEADER = "instrument,backend,data_symbol,exchange,market,start,base_url,archive_url\n"


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "instruments.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


def btc(emu: Emulator, name: str = "BTCUSDT", symbol: str = "BTC/USDT") -> str:
    return f"{name},ccxt,{symbol},binance,,2025-02-27,{emu.base_url},{emu.archive_url}"


def sync(tmp_path: Path, config: Path, *extra: str) -> int:
    return main(["sync", "--config", str(config), "--lake", str(tmp_path / "lake"), *extra])


def test_plan_shows_missing_ranges_and_known_empty_apart_and_downloads_nothing(
    emu, tmp_path, capsys
):
    config = write(tmp_path, btc(emu))
    assert sync(tmp_path, config, "--end", "2025-03-13", "--derive", "1h") == 0
    capsys.readouterr()
    emu.reset()
    assert sync(tmp_path, config, "--plan", "--end", "2025-03-14") == 0
    shown = capsys.readouterr().out
    assert "2025-03-13 00:00 → 2025-03-14 00:00 (1,440 bars)" in shown
    assert "120" in shown  # the two-hour maintenance hole on 2025-03-12 is known-empty
    assert len(emu.binance.journal) == 0 and len(emu.archive.journal) == 0


def test_sync_then_rerun_fetches_nothing_and_exits_zero(emu, tmp_path, capsys):
    config = write(tmp_path, btc(emu), btc(emu, "ETHUSDT", "ETH/USDT"))
    assert sync(tmp_path, config, "--end", "2025-03-03", "--derive", "5m", "1h") == 0
    out = capsys.readouterr().out
    assert "synced 2/2 instruments, 11,520 bars added" in out
    lake = Lake(tmp_path / "lake")
    assert lake.read("binance", "ETHUSDT", "1h").shape[0] == 96
    emu.reset()
    assert sync(tmp_path, config, "--end", "2025-03-03", "--quiet") == 0
    assert "0 bars added" in capsys.readouterr().out
    assert emu.binance.journal.entries("/api/v3/klines") == []


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_still_run(emu, tmp_path, capsys):
    config = write(
        tmp_path,
        btc(emu),
        "BROKEN,ccxt,,binance,,,,",
        f"NOPE,ccxt,NOPE/USDT,binance,,2025-02-27,{emu.base_url},",
        f"WHO,ccxt,BTC/USDT,notanexchange,,2025-02-27,{emu.base_url},",
    )
    assert sync(tmp_path, config, "--end", "2025-02-28", "--derive", "1h") == 1
    captured = capsys.readouterr()
    assert f"{config}:3: column data_symbol" in captured.err
    assert "NOPE: binance has no spot market 'NOPE/USDT'" in captured.out
    assert "unknown exchange 'notanexchange'" in captured.out
    assert "synced 1/3 instruments" in captured.out
    assert Lake(tmp_path / "lake").read("binance", "BTCUSDT", "1m").shape[0] == 1440


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-03-02", "--end", "2025-03-01"], "is not before end"),
        (["--derive", "1x"], "1x"),
        (["--derive", "1m"], "cannot derive 1m"),
        (["--start", "yesterday-ish"], "yesterday-ish"),
        (["--only", "fx"], "bad --only 'fx'"),
        (["--filter", "("], "bad --filter regex"),
    ],
)
def test_bad_arguments_fail_before_the_lake_is_touched(emu, tmp_path, capsys, args, message):
    config = write(tmp_path, btc(emu))
    assert sync(tmp_path, config, *args) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "lake").exists()
    assert len(emu.binance.journal) == 0


def test_a_missing_instruments_file_is_one_clear_line(tmp_path, capsys):
    assert sync(tmp_path, tmp_path / "nope.csv") == 1
    assert "instruments file" in capsys.readouterr().err


def test_a_refused_base_url_names_the_instrument_and_leaves_the_lake_untouched(tmp_path, capsys):
    with Emulator() as gone:
        row = btc(gone)
    config = write(tmp_path, row)
    assert sync(tmp_path, config, "--fail-streak", "2", "--end", "2025-02-28") == 1
    out = capsys.readouterr().out
    assert "BTCUSDT: gave up after 2 failures in a row" in out
    assert not (tmp_path / "lake" / "ohlcv").exists()


def test_derive_only_works_without_any_network(emu, tmp_path):
    config = write(tmp_path, btc(emu))
    assert sync(tmp_path, config, "--end", "2025-02-28", "--derive", "1h") == 0
    emu.stop()  # nothing answers any more
    assert sync(tmp_path, config, "--derive-only", "--derive", "4h") == 0
    assert Lake(tmp_path / "lake").read("binance", "BTCUSDT", "4h").shape[0] == 6


def test_log_json_writes_one_json_object_per_line_and_a_rotating_log_under_the_lake(
    emu, tmp_path, capsys
):
    config = write(tmp_path, btc(emu))
    assert sync(tmp_path, config, "--end", "2025-02-28", "--log-json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    results = [line for line in lines if line["message"].startswith("result ")]
    assert json.loads(results[0]["message"][len("result ") :])["bars"] == 1440
    assert (tmp_path / "lake" / "_logs" / "sync.log").read_text().count("result ") == 1
