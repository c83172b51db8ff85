"""Entry point: builds the Typer app from the command modules and turns errors into one line."""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from rich.markup import escape

from barlake.cli.options import console
from barlake.errors import BarlakeError

# Each module exposes register(app); listing them here keeps start-up imports explicit.
COMMAND_MODULES = (
    "barlake.cli.lake_commands",
    "barlake.cli.demo_command",
    "barlake.cli.research_commands",
    "barlake.cli.emulate_command",
    "barlake.cli.sync_command",
    "barlake.cli.market_commands",
    "barlake.cli.backtest_commands",
    "barlake.cli.optimize_commands",
    "barlake.cli.stream_commands",
    "barlake.cli.batch_command",
    "barlake.cli.app_command",
)

app = typer.Typer(
    name="barlake",
    help="barlake: a local market-data lake for traders (1m bars as truth, derived timeframes).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = console(stderr=True)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


# Options that take several values after one flag (`--timeframes 5m 1h 4h`), which click lacks.
MULTI_VALUE_FLAGS = frozenset({"--timeframes", "-t", "--derive"})


def expand_multi(argv: list[str]) -> list[str]:
    """Rewrite `--flag a b c` as `--flag a --flag b --flag c` for MULTI_VALUE_FLAGS."""
    result: list[str] = []
    flag: str | None = None
    for token in argv:
        if token in MULTI_VALUE_FLAGS:
            flag = token
            result.append(token)
            continue
        if flag and not token.startswith("-") and result[-1] != flag:
            result.append(flag)
        elif token.startswith("-"):
            flag = None
        result.append(token)
    return result


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # commands may log INFO to files; not here
        handler.setLevel(logging.WARNING)
    args = expand_multi(list(sys.argv[1:] if argv is None else argv))
    try:
        app(args=args, standalone_mode=True)
    except BarlakeError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
