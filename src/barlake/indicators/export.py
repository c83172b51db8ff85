"""Enriched frames on disk: a lake series plus indicator columns, written as zstd Parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from barlake.errors import DataError
from barlake.indicators.spec import add
from barlake.lake import Lake
from barlake.lake.atomic import write_atomic
from barlake.timeframes import canonical


@dataclass(frozen=True)
class Export:
    """Where the enriched frame went and its shape, for the CLI to report."""

    path: Path
    rows: int
    columns: tuple[str, ...]


def export_indicators(
    lake: Lake | Path | str | None,
    source: str,
    instrument: str,
    timeframe: str,
    *,
    start: object = None,
    end: object = None,
    spec: Any = None,
    out: Path | str | None = None,
) -> Export:
    """Read bars in [start, end), add the spec's indicators (DEFAULT_SPEC when None) and write
    `<lake>/exports/<instrument>_<timeframe>_ta.parquet` (or `out`) atomically: a reader sees
    the old file or the new one, never half of one."""
    store = lake if isinstance(lake, Lake) else Lake(lake)
    frame = store.read(source, instrument, timeframe, start, end)
    if frame.empty:
        raise DataError(
            f"no {timeframe} bars for {source}/{instrument} in the requested range of "
            f"{store.root}: sync or import them first"
        )
    enriched = add(frame, spec)
    path = (
        Path(out)
        if out
        else store.root / "exports" / f"{instrument}_{canonical(timeframe)}_ta.parquet"
    )
    write_frame(path, enriched)
    return Export(path, len(enriched), tuple(enriched.columns))


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """An enriched frame as zstd Parquet with its `time` index, replaced atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=True)

    def writer(handle: BinaryIO) -> None:
        pq.write_table(table, handle, compression="zstd")

    write_atomic(path, writer)
