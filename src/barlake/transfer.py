"""Files in and out of the lake: import a CSV/Parquet/MT5 file, export a series range."""

from __future__ import annotations

from pathlib import Path

from barlake.bars.schema import TIMESTAMP
from barlake.errors import ConfigError, DataError
from barlake.files.exporter import export_frame
from barlake.files.importer import read_bar_file
from barlake.lake.store import Lake, WriteResult
from barlake.timeframes import parse_timeframe


def import_file(
    lake: Lake, path: Path, source: str, instrument: str, timeframe: str = "1m", tz: str = "UTC"
) -> WriteResult:
    """Merge a file's bars into the lake; its span [first, last + tf) counts as answered."""
    key = lake.key(source, instrument, timeframe)
    if not Path(path).is_file():
        raise ConfigError(f"{path}: no such file; give the path of a CSV, Parquet or MT5 export")
    table = read_bar_file(Path(path), tz=tz)
    if table.num_rows == 0:
        raise DataError(f"{path}: no bars found; check the file has data rows")
    ts = table.column(TIMESTAMP).to_numpy()
    span = [(int(ts.min()), int(ts.max()) + parse_timeframe(key.timeframe))]
    return lake.write_key(key, table, covered=span)


def export_series(
    lake: Lake,
    source: str,
    instrument: str,
    timeframe: str,
    fmt: str,
    out: Path,
    start: object = None,
    end: object = None,
    table: str = "ohlcv",
) -> tuple[Path, int]:
    """Write one series range to a file another tool reads (`table`: the SQLite table);
    refuses to write an empty export."""
    frame = lake.read(source, instrument, timeframe, start, end)
    if frame.empty:
        raise DataError(
            f"{source}/{instrument}/{timeframe} has no bars in that range; "
            "check `barlake ls` for what the lake holds"
        )
    return export_frame(frame, fmt, Path(out), table=table), len(frame)
