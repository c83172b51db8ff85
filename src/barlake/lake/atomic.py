"""Replace a file whole or not at all: temp file beside it, fsync, os.replace, fsync the folder."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TMP_MARK = ".tmp-"


def temp_name(final: Path) -> Path:
    return final.with_name(f"{final.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temp path beside `final`; once the block succeeds, make it durable and swap it in.

    On any failure the temp file is removed and `final` is left as it was.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        yield tmp
        if final.exists():  # keep the permissions the old file had
            os.chmod(tmp, stat.S_IMODE(final.stat().st_mode))
        fsync_path(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(final.parent)  # make the rename itself durable


def write_atomic(final: Path, writer: Callable[[BinaryIO], None]) -> None:
    """Run writer on a temp file beside `final`, make it durable, then swap it in."""
    with atomic_path(final) as tmp, open(tmp, "wb") as handle:
        writer(handle)


def write_bytes_atomic(final: Path, data: bytes) -> None:
    def writer(handle: BinaryIO) -> None:
        handle.write(data)

    write_atomic(final, writer)


def fsync_path(path: Path) -> None:
    """fsync a file, or a folder so that a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stale_temps(folder: Path) -> list[Path]:
    """Temp files a killed writer left behind (never read; removed by the next writer or verify)."""
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob(f"*{TMP_MARK}*") if p.is_file()]
