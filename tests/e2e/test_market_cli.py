"""`barlake symbols`, `barlake universe` and `barlake service` end to end through the real entry
point (`barlake.cli.main.main`, which turns errors into one line), against the emulator."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator

import pytest

from barlake.cli import main as cli
from barlake.emulator import Emulator
from barlake.instruments import load_instruments


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_symbols_prints_a_table_and_json_for_scripts(capsys, emu):
    code, table, _ = run(capsys, "symbols", "binance", "--base-url", emu.base_url)
    assert code == 0
    rows = [line for line in table.splitlines() if "/" in line]
    assert [line.split()[1] for line in rows] == [
        "BTC/USDC",
        "BTC/USDT",
        "ETH/USDT",
        "LUNA/USDT",
        "SOL/USDT",
    ]
    assert "no" in rows[3].split()
    code, text, _ = run(
        capsys, "symbols", "binance", "--search", "eth", "--json", "--base-url", emu.base_url
    )
    assert code == 0
    assert json.loads(text) == [
        {
            "symbol": "ETH/USDT",
            "id": "ETHUSDT",
            "base": "ETH",
            "quote": "USDT",
            "type": "spot",
            "active": True,
        }
    ]


def test_symbols_lists_hyperliquid_perpetuals(capsys, emu):
    code, table, _ = run(
        capsys, "symbols", "hyperliquid", "--market", "swap", "--base-url", emu.hyperliquid_url
    )
    assert code == 0
    assert re.findall(r"\w+/USDC:USDC", table) == [
        "BTC/USDC:USDC",
        "ETH/USDC:USDC",
        "SOL/USDC:USDC",
    ]


def test_universe_out_writes_a_file_the_sync_loads_then_merges(capsys, emu, tmp_path):
    target = tmp_path / "instruments.csv"
    args = ["universe", "binance", "--quote", "USDT", "--base-url", emu.base_url]
    code, first, _ = run(capsys, *args, "--top", "2", "--out", str(target))
    assert code == 0
    assert f"{target}: 2 added, 0 updated, 0 other rows kept" in first
    code, second, _ = run(capsys, *args, "--top", "5", "--out", str(target))
    assert code == 0
    assert "1 added, 2 updated, 0 other rows kept" in second
    assert "3 of the 5 asked qualify" in second
    loaded = load_instruments(target)
    assert loaded.ok and len(loaded) == 3
    assert {(i.exchange, i.base_url) for i in loaded} == {("binance", emu.base_url)}
    tickers = emu.binance.journal.entries("/api/v3/ticker/24hr")
    assert [(e.params, e.weight) for e in tickers] == [({}, 80), ({}, 80)]  # one call per run


def test_universe_without_out_only_prints(capsys, emu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, text, _ = run(
        capsys, "universe", "hyperliquid", "--quote", "usdc", "--market", "swap", "--top", "1",
        "--base-url", emu.hyperliquid_url,
    )  # fmt: skip
    assert code == 0
    assert re.search(r"1 +│ \w+USDC +│ \w+/USDC:USDC", text), text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["universe", "binancex", "--quote", "USDT"], ["unknown exchange 'binancex'"]),
        (["symbols", "kraken2"], ["unknown exchange 'kraken2'", "ccxt id"]),
        (["universe", "binance", "--quote", "USDT", "--top", "0"], ["--top 0", "at least 1"]),
        (["symbols", "binance", "--market", "perp"], ["--market 'perp'", "use swap"]),
        (["universe", "binance", "--market", "futures", "--quote", "USDT"], ["use future"]),
        (["universe", "binance"], ["--quote USDT"]),
        (["service", "install", "--at", "25:00", "--dry-run"], ["--at '25:00'", "03:00"]),
        (["service", "cron", "--at", "3pm"], ["--at '3pm'", "HH:MM"]),
    ],
)
def test_bad_input_is_one_line_naming_the_thing_and_the_fix_exit_1(capsys, tmp_path, args, words):
    target = tmp_path / "instruments.csv"
    out = ["--out", str(target)] if args[0] == "universe" else []
    code, _, err = run(capsys, *args, *out)
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert all(word in err for word in words), err
    assert not target.exists()


def test_a_base_url_that_refuses_connections_is_one_line_exit_1(capsys, tmp_path):
    with Emulator() as stopped:
        dead = stopped.base_url
    target = tmp_path / "instruments.csv"
    for args in (
        ["symbols", "binance"],
        ["universe", "binance", "--quote", "USDT", "--out", str(target)],
    ):
        code, _, err = run(capsys, *args, "--base-url", dead)
        assert code == 1
        assert err == (
            f"error: binance: cannot reach {dead} (connection refused); "
            "check --base-url (is a server listening there?)\n"
        )
    assert not target.exists()


def test_service_install_writes_the_units_and_prints_the_systemctl_commands(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "instruments.csv"
    config.write_text("instrument,backend,data_symbol,exchange\nBTCUSDT,ccxt,BTC/USDT,binance\n")
    lake = tmp_path / "lake"
    code, text, err = run(
        capsys, "service", "install", "--at", "04:30", "--config", str(config), "--lake", str(lake)
    )
    assert code == 0
    units = tmp_path / "xdg" / "systemd" / "user"
    assert "OnCalendar=*-*-* 04:30:00" in (units / "barlake-sync.timer").read_text()
    assert f"--lake {lake} --quiet --log-json" in (units / "barlake-sync.service").read_text()
    assert (
        "systemctl --user daemon-reload && systemctl --user enable --now barlake-sync.timer" in text
    )
    assert "loginctl enable-linger" in err


def test_service_install_dry_run_shows_the_files_and_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    code, text, _ = run(capsys, "service", "install", "--dry-run", "--lake", str(tmp_path))
    assert code == 0
    assert "dry run, would write" in text and "Persistent=true" in text
    assert "ExecStart=" in text and not (tmp_path / "xdg").exists()


def test_service_cron_prints_exactly_one_crontab_line(capsys, tmp_path):
    config = tmp_path / "instruments.csv"
    code, text, err = run(
        capsys, "service", "cron", "--at", "03:00", "--config", str(config), "--lake", str(tmp_path)
    )
    assert code == 0
    assert text.count("\n") == 1 and text.startswith("0 3 * * * cd ")
    assert shlex.split(text)[-7:] == [
        *("sync", "--config", str(config), "--lake", str(tmp_path)),
        *("--quiet", "--log-json"),
    ]
    assert "does not exist yet" in err


def test_help_lists_the_market_and_service_commands(capsys):
    code, text, _ = run(capsys, "--help")
    assert code == 0
    assert all(name in text for name in ("symbols", "universe", "service"))
    code, text, _ = run(capsys, "service", "--help")
    assert code == 0 and "install" in text and "cron" in text
