"""Options shared by every command, so `--lake` means the same everywhere."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

LakeOpt = Annotated[
    Path | None,
    typer.Option(
        "--lake", help="Lake folder (default: $BARLAKE_LAKE, else ./data).", show_default=False
    ),
]
StartOpt = Annotated[
    str | None, typer.Option("--start", help="Start, inclusive: YYYY-MM-DD or ISO date-time (UTC).")
]
EndOpt = Annotated[
    str | None, typer.Option("--end", help="End, exclusive: YYYY-MM-DD or ISO date-time (UTC).")
]


def console(stderr: bool = False) -> Console:
    """Wide enough for our tables when piped (rich would assume 80 columns)."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)
