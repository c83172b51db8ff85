"""Service mode: the systemd user unit + timer, the crontab line, and the rotating sync log."""

from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from barlake.errors import ConfigError, LakeError
from barlake.service import (
    Schedule,
    barlake_command,
    cron_entry,
    install_service,
    log_handler,
    parse_at,
    plan_service,
    unit_dir,
)


def unit_settings(text: str) -> dict[str, str]:
    """key → value of a unit file's settings (comments and section headers skipped)."""
    lines = [line for line in text.splitlines() if "=" in line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "project" / "instruments.csv"
    path.parent.mkdir()
    path.write_text("instrument,backend,data_symbol,exchange\nBTCUSDT,ccxt,BTC/USDT,binance\n")
    return path


def test_install_writes_a_daily_persistent_timer_and_a_oneshot_sync_service(tmp_path, config):
    done = install_service(
        "03:00", config, tmp_path / "lake", env={"XDG_CONFIG_HOME": str(tmp_path)}
    )
    folder = tmp_path / "systemd" / "user"
    assert (done.service, done.timer) == (
        folder / "barlake-sync.service",
        folder / "barlake-sync.timer",
    )
    timer = unit_settings(done.timer.read_text())
    assert (timer["OnCalendar"], timer["Persistent"]) == ("*-*-* 03:00:00", "true")
    assert (timer["Unit"], timer["WantedBy"]) == ("barlake-sync.service", "timers.target")
    service = unit_settings(done.service.read_text())
    assert service["Type"] == "oneshot"
    assert service["WorkingDirectory"] == str(config.parent)
    assert service["EnvironmentFile"] == f"-{config.parent}/.env"
    assert service["ExecStart"].split() == [
        *barlake_command(),
        *("sync", "--config", str(config), "--lake", str(tmp_path / "lake")),
        *("--quiet", "--log-json"),
    ]
    assert done.commands[0] == (
        "systemctl --user daemon-reload && systemctl --user enable --now barlake-sync.timer"
    )


def test_the_service_runs_an_absolute_barlake_that_really_starts(config, tmp_path):
    plan = plan_service("03:00", config, tmp_path / "lake")
    assert Path(plan.command[0]).is_absolute()
    proc = subprocess.run(
        [*plan.command[: plan.command.index("sync")], "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "barlake" in proc.stdout


def test_relative_paths_and_the_lake_variable_are_fixed_as_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BARLAKE_LAKE", "lakes/main")
    plan = plan_service("3:05")
    assert (plan.config, plan.lake) == (tmp_path / "instruments.csv", tmp_path / "lakes/main")
    assert plan.schedule == Schedule(3, 5)
    monkeypatch.delenv("BARLAKE_LAKE")
    assert plan_service().lake == tmp_path / "data"


def test_no_secret_reaches_the_unit_even_when_keys_are_set(tmp_path, config, monkeypatch):
    monkeypatch.setenv("BARLAKE_BINANCE_API_KEY", "key-in-env-123")
    (config.parent / ".env").write_text("BARLAKE_BINANCE_SECRET=secret-in-dotenv-456\n")
    done = install_service("03:00", config, env={"XDG_CONFIG_HOME": str(tmp_path)})
    written = done.service.read_text() + done.timer.read_text()
    line, _ = cron_entry("03:00", config)
    for secret in ("key-in-env-123", "secret-in-dotenv-456"):
        assert secret not in written and secret not in line


def test_dry_run_writes_nothing_and_a_missing_config_is_a_note_not_an_error(tmp_path):
    done = install_service(
        "03:00", tmp_path / "nope.csv", dry_run=True, env={"XDG_CONFIG_HOME": str(tmp_path)}
    )
    assert not done.written and not done.service.exists() and not done.timer.exists()
    assert any("nope.csv does not exist yet" in note for note in done.notes)
    assert any("loginctl enable-linger" in note for note in done.notes)


def test_install_again_replaces_the_pair_with_the_new_time(tmp_path, config):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    install_service("03:00", config, env=env)
    done = install_service("22:15", config, env=env)
    assert unit_settings(done.timer.read_text())["OnCalendar"] == "*-*-* 22:15:00"
    assert sorted(p.name for p in done.timer.parent.iterdir()) == [
        "barlake-sync.service",
        "barlake-sync.timer",
    ]


def test_unit_folder_follows_xdg_config_home_and_ignores_a_relative_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert unit_dir({"XDG_CONFIG_HOME": "/srv/cfg"}) == Path("/srv/cfg/systemd/user")
    assert unit_dir({"XDG_CONFIG_HOME": "cfg"}) == tmp_path / "home/.config/systemd/user"
    assert unit_dir({}) == tmp_path / "home/.config/systemd/user"


def test_cron_line_runs_the_same_command_from_the_config_folder(tmp_path, config):
    line, notes = cron_entry("03:30", config, tmp_path / "lake")
    fields = line.split(" ", 5)
    assert fields[:5] == ["30", "3", "*", "*", "*"]
    words = shlex.split(fields[5])
    assert words[:3] == ["cd", str(config.parent), "&&"]
    assert words[3:] == list(plan_service("03:30", config, tmp_path / "lake").command)
    assert notes == []


def test_spaces_percent_and_dollar_in_paths_survive_systemd_and_cron_escaping(tmp_path):
    folder = tmp_path / "my 100% $data"
    plan = plan_service("03:00", folder / "instruments.csv", folder / "lake")
    exec_start = unit_settings(plan.service_text())["ExecStart"]
    systemd_words = [w.replace("%%", "%").replace("$$", "$") for w in shlex.split(exec_start)]
    assert systemd_words == list(plan.command)
    assert unit_settings(plan.service_text())["WorkingDirectory"] == str(folder).replace("%", "%%")
    cron_shell = plan.cron_line().split(" ", 5)[5]
    assert "%" not in cron_shell.replace("\\%", "")  # a bare % would end the cron command
    assert shlex.split(cron_shell.replace("\\%", "%"))[3:] == list(plan.command)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_itself_accepts_the_unit_and_the_timer(tmp_path, config):
    done = install_service(
        "03:00", config, tmp_path / "lake", env={"XDG_CONFIG_HOME": str(tmp_path)}
    )
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(done.service), str(done.timer)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("text", ["25:00", "03:60", "3pm", "03", "", "03:00:00"])
def test_a_bad_time_is_one_config_error_with_an_example(text):
    with pytest.raises(ConfigError, match=r"use HH:MM in 24-hour local time, e\.g\. 03:00"):
        parse_at(text)


def test_log_handler_rotates_under_the_lake_at_5_mb_keeping_5_files(tmp_path):
    handler = log_handler(tmp_path / "lake")
    try:
        assert isinstance(handler, RotatingFileHandler)
        assert Path(handler.baseFilename) == tmp_path / "lake" / "_logs" / "sync.log"
        assert (handler.maxBytes, handler.backupCount + 1) == (5 * 1024 * 1024, 5)
        logger = logging.getLogger("barlake.test_service")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.info("synced %d instruments", 3)
        logger.removeHandler(handler)
    finally:
        handler.close()
    text = (tmp_path / "lake/_logs/sync.log").read_text()
    assert text.endswith("Z INFO barlake.test_service: synced 3 instruments\n")
    assert text[:4].isdigit() and text[10] == "T"


def test_log_handler_on_an_unwritable_lake_is_a_lake_error(tmp_path):
    blocker = tmp_path / "lake"
    blocker.write_text("a file where the lake should be")
    with pytest.raises(LakeError, match=r"cannot write the sync log .*; point --lake"):
        log_handler(blocker)
