"""Service mode: `barlake sync` once a day from a systemd user timer (or cron), logging to a
rotating file under the lake.

Why a *user* unit: no root, and it runs as the user who owns the lake and the `.env` holding
API keys. The unit carries no secret: ExecStart holds only absolute paths and flags (`ps`,
`systemctl status` and the journal show it), keys stay in `<config folder>/.env`, found by
barlake because the unit's WorkingDirectory is that folder (systemd also loads it through
`EnvironmentFile=-…`, the `-` meaning "if present"). Paths are made absolute here because
neither systemd nor cron starts in the folder you ran `barlake service` from.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path

from barlake.errors import ConfigError, LakeError
from barlake.lake.atomic import write_bytes_atomic
from barlake.lake.store import resolve_lake

UNIT = "barlake-sync"
DEFAULT_CONFIG = "instruments.csv"
LOG_DIR = "_logs"
LOG_FILE = "sync.log"
LOG_BYTES = 5 * 1024 * 1024
LOG_FILES = 5  # sync.log + sync.log.1 … .4: at most 25 MB however long the service runs
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_AT_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Schedule:
    """A daily time, in the machine's local time zone (both systemd and cron use it)."""

    hour: int
    minute: int

    @property
    def on_calendar(self) -> str:
        return f"*-*-* {self.hour:02d}:{self.minute:02d}:00"

    @property
    def cron(self) -> str:
        return f"{self.minute} {self.hour} * * *"

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


def parse_at(text: str) -> Schedule:
    """`HH:MM` in 24-hour time (`3:00` is fine) or a ConfigError with an example."""
    match = _AT_RE.match(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"bad --at {text!r}: use HH:MM in 24-hour local time, e.g. 03:00")
    return Schedule(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class ServicePlan:
    """Everything the unit, the timer and the crontab line are made from."""

    schedule: Schedule
    config: Path  # absolute
    lake: Path  # absolute
    command: tuple[str, ...]  # absolute barlake + sync flags

    @property
    def workdir(self) -> Path:
        """Where `.env` is looked for: the instruments file's folder."""
        return self.config.parent

    def service_text(self) -> str:
        workdir = _unit_path(self.workdir)
        return (
            "# Written by `barlake service install`; running it again replaces this file.\n"
            "[Unit]\n"
            f"Description=barlake sync: update the lake {_unit_path(self.lake)}\n\n"
            "[Service]\n"
            "Type=oneshot\n"
            f"WorkingDirectory={workdir}\n"
            "# API keys (BARLAKE_<EXCHANGE>_API_KEY, _SECRET, _PASSWORD) live in this file or in\n"
            "# the environment, never on the command line below.\n"
            f"EnvironmentFile=-{workdir}/.env\n"
            f"ExecStart={' '.join(_unit_quote(arg) for arg in self.command)}\n"
            "Nice=10\n"
        )

    def timer_text(self) -> str:
        return (
            "# Written by `barlake service install`; running it again replaces this file.\n"
            "[Unit]\n"
            f"Description=Run barlake sync daily at {self.schedule} (local time)\n\n"
            "[Timer]\n"
            f"OnCalendar={self.schedule.on_calendar}\n"
            "# A run missed while the machine was off happens at the next boot.\n"
            "Persistent=true\n"
            f"Unit={UNIT}.service\n\n"
            "[Install]\n"
            "WantedBy=timers.target\n"
        )

    def cron_line(self) -> str:
        """One crontab line: cd to the config's folder (for `.env`), then the same command."""
        shell = f"cd {shlex.quote(str(self.workdir))} && {shlex.join(self.command)}"
        return f"{self.schedule.cron} {shell.replace('%', chr(92) + '%')}"


def plan_service(
    at: str = "03:00",
    config: Path | str | None = None,
    lake: Path | str | None = None,
    executable: list[str] | None = None,
) -> ServicePlan:
    """The plan for a daily sync of `config` (default ./instruments.csv) into `lake` (default
    --lake rules: $BARLAKE_LAKE, else ./data), both fixed as absolute paths now."""
    schedule = parse_at(at)
    config_path = Path(os.path.abspath(Path(config or DEFAULT_CONFIG).expanduser()))
    lake_path = Path(os.path.abspath(resolve_lake(lake).expanduser()))
    flags = ("sync", "--config", str(config_path), "--lake", str(lake_path), "--quiet")
    return ServicePlan(
        schedule, config_path, lake_path, (*(executable or barlake_command()), *flags, "--log-json")
    )


def barlake_command() -> list[str]:
    """The barlake this Python runs, by absolute path: a timer has no venv on its PATH."""
    beside = Path(sys.executable).with_name("barlake")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [os.path.abspath(beside)]
    found = shutil.which("barlake")
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "barlake.cli.main"]


def unit_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/systemd/user`, or `~/.config/systemd/user` (a relative XDG value is
    ignored, as the XDG spec says)."""
    environ = os.environ if env is None else env
    xdg = environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / "systemd" / "user"


@dataclass(frozen=True)
class Installed:
    """What `install_service` wrote (or would write, with dry_run) and what to run next."""

    plan: ServicePlan
    service: Path
    timer: Path
    written: bool
    commands: list[str]
    notes: list[str] = field(default_factory=list)


def install_service(
    at: str = "03:00",
    config: Path | str | None = None,
    lake: Path | str | None = None,
    *,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
) -> Installed:
    """Write `barlake-sync.service` and `.timer` into the user unit folder (atomically; an
    existing pair is replaced). systemctl is left to the user: the commands come back."""
    plan = plan_service(at, config, lake)
    folder = unit_dir(env)
    service, timer = folder / f"{UNIT}.service", folder / f"{UNIT}.timer"
    if not dry_run:
        try:
            write_bytes_atomic(service, plan.service_text().encode())
            write_bytes_atomic(timer, plan.timer_text().encode())
        except OSError as exc:
            raise ConfigError(
                f"cannot write {folder} ({exc.strerror}); check it is writable"
            ) from None
    commands = [
        f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT}.timer",
        f"systemctl --user list-timers {UNIT}.timer",
        f"tail -f {shlex.quote(str(plan.lake / LOG_DIR / LOG_FILE))}",
    ]
    linger = (
        "user timers run only while you are logged in unless lingering is on: "
        "loginctl enable-linger $USER"
    )
    return Installed(plan, service, timer, not dry_run, commands, [*_notes(plan), linger])


def cron_entry(
    at: str = "03:00", config: Path | str | None = None, lake: Path | str | None = None
) -> tuple[str, list[str]]:
    """The crontab line for the same daily sync, and notes about the plan."""
    plan = plan_service(at, config, lake)
    return plan.cron_line(), _notes(plan)


def _notes(plan: ServicePlan) -> list[str]:
    """Things that would make the 03:00 run fail silently, said now."""
    notes = []
    if not plan.config.is_file():
        notes.append(
            f"{plan.config} does not exist yet; create it before the first run "
            "(e.g. barlake universe binance --quote USDT --out instruments.csv)"
        )
    return notes


def log_handler(lake_root: Path | str) -> logging.Handler:
    """A rotating log at `<lake>/_logs/sync.log`, 5 MB per file, 5 files in all.

    Why under the lake: a service has no terminal, and the log then travels with the data it
    describes; the cap means years of daily runs never fill the disk. Times are UTC like the
    bars; a caller wanting JSON lines sets its own formatter on the handler.
    """
    path = Path(lake_root) / LOG_DIR / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_FILES - 1, encoding="utf-8"
        )
    except OSError as exc:
        raise LakeError(
            f"cannot write the sync log {path} ({exc.strerror}); point --lake at a writable folder"
        ) from None
    formatter = logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    return handler


def _unit_path(path: Path) -> str:
    """A path for a unit setting: `%` starts a systemd specifier, so it is doubled."""
    return str(path).replace("%", "%%")


def _unit_quote(arg: str) -> str:
    """One ExecStart word: specifiers (`%`) and variables (`$`) escaped, quoted when needed."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not re.search(r"[\s\"'\\;]", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
