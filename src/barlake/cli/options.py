"""Options shared by every command, so `--lake` means the same everywhere."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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


@contextmanager
def progress_bar(label: str) -> Iterator[tuple[Callable[[int], None], Callable[..., None]]]:
    """A rich progress bar on stderr for long work; silent when stderr is not a terminal."""
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield (lambda total: bar.update(task, total=total)), (lambda *_: bar.advance(task))
