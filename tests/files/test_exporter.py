"""export_frame: each format holds the exact bars, and no failure leaves a half-written file."""

from __future__ import annotations

import resource
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from barlake.bars.frame import table_to_frame
from barlake.errors import ConfigError, DataError
from barlake.files.exporter import FORMATS, export_frame
from barlake.files.importer import read_bar_file

T0_MS = 1_704_200_700_000  # 2024-01-02 13:05:00 UTC
MINUTE_MS = 60_000


def bars(
    n: int = 3, start_ms: int = T0_MS, shift: float = 0.0, trades: bool = False
) -> pd.DataFrame:
    """An API frame with distinct, exactly representable values per bar."""
    i = np.arange(n, dtype=np.float64)
    columns = {
        "timestamp_ms": pa.array(start_ms + np.arange(n, dtype=np.int64) * MINUTE_MS),
        "open": 100.0 + i + shift,
        "high": 101.5 + i + shift,
        "low": 99.25 + i + shift,
        "close": 100.75 + i + shift,
        "volume": 10.0 * (i + 1),
    }
    if trades:
        columns["trades"] = pa.array(np.arange(n, dtype=np.int64) + 7)
    return table_to_frame(pa.table(columns))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_csv_has_the_documented_header_and_iso_utc_times(tmp_path: Path) -> None:
    out = export_frame(bars(2, trades=True), "csv", tmp_path / "deep" / "er" / "bars.csv")
    assert out == tmp_path / "deep" / "er" / "bars.csv"
    assert out.read_text().splitlines() == [
        "time,open,high,low,close,volume,trades",
        "2024-01-02T13:05:00Z,100,101.5,99.25,100.75,10,7",
        "2024-01-02T13:06:00Z,101,102.5,100.25,101.75,20,8",
    ]


def test_csv_export_reads_back_through_the_importer_unchanged(tmp_path: Path) -> None:
    frame = bars(50, trades=True)
    frame["close"] += 1 / 3  # a value whose shortest repr needs all 17 digits
    back = table_to_frame(read_bar_file(export_frame(frame, "csv", tmp_path / "b.csv")))
    pd.testing.assert_frame_equal(back, frame, check_exact=True, check_index_type=False)


@pytest.fixture
def file_size_limit() -> Iterator[Callable[[int | None], None]]:
    """Cap file size for this process, as a full disk would; writes past it fail with EFBIG."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process

    def cap(size: int | None) -> None:  # None lifts the cap again
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft if size is None else size, hard))

    yield cap
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, previous)


def test_csv_write_failing_midway_leaves_the_old_file_intact(
    tmp_path: Path, file_size_limit: Callable[[int | None], None]
) -> None:
    out = export_frame(bars(3), "csv", tmp_path / "bars.csv")
    before = out.read_bytes()
    file_size_limit(64 * 1024)  # the new export is ~3 MB: it dies after the first 64 KiB
    with pytest.raises(OSError, match="too large"):
        export_frame(bars(50_000, shift=1.0), "csv", out)
    file_size_limit(None)
    assert out.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_replaces_atomically_and_leaves_no_temp_files(
    tmp_path: Path, fmt: str, file_size_limit: Callable[[int | None], None]
) -> None:
    out = export_frame(bars(3), fmt, tmp_path / fmt / f"bars.{fmt}")
    before = out.read_bytes()
    file_size_limit(len(before) + 4096)  # every format needs far more for 50k bars
    with pytest.raises(OSError, match=r"too large|disk I/O error"):
        export_frame(bars(50_000, shift=1.0), fmt, out)
    file_size_limit(None)
    assert out.read_bytes() == before
    assert leftovers(out.parent) == []
    assert sorted(p.name for p in out.parent.iterdir()) == [f"bars.{fmt}"]


def test_parquet_and_feather_hold_lake_columns_with_exact_values(tmp_path: Path) -> None:
    frame = bars(3, trades=True)
    parquet = pq.read_table(export_frame(frame, "parquet", tmp_path / "b.parquet"))
    arrow = feather.read_table(export_frame(frame, "feather", tmp_path / "b.feather"))
    for table in (parquet, arrow):
        assert table.column_names == [
            *("timestamp_ms", "open", "high", "low", "close", "volume", "trades")
        ]
        assert table.column("timestamp_ms").to_pylist() == [T0_MS, T0_MS + 60_000, T0_MS + 120_000]
        assert table.column("close").to_pylist() == [100.75, 101.75, 102.75]
        assert table.schema.field("trades").type == pa.int64()
    assert pq.read_metadata(tmp_path / "b.parquet").row_group(0).column(0).compression == "ZSTD"


def sqlite_rows(path: Path, table: str = "ohlcv") -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT * FROM {table} ORDER BY timestamp_ms").fetchall()
    db.close()
    return rows


def test_sqlite_re_export_is_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "bars.db"
    export_frame(bars(3, trades=True), "sqlite", out)
    first = sqlite_rows(out)
    export_frame(bars(3, trades=True), "sqlite", out)
    assert sqlite_rows(out) == first
    assert first[0] == (T0_MS, "2024-01-02T13:05:00Z", 100.0, 101.5, 99.25, 100.75, 10.0, 7)
    assert len(first) == 3


def test_sqlite_overlapping_export_extends_the_table_and_updates_the_overlap(
    tmp_path: Path,
) -> None:
    out = tmp_path / "bars.db"
    export_frame(bars(3), "sqlite", out, table="eurusd_1m")
    later = bars(3, start_ms=T0_MS + 2 * MINUTE_MS, shift=0.5)  # overlaps the last bar
    export_frame(later, "sqlite", out, table="eurusd_1m")
    rows = sqlite_rows(out, "eurusd_1m")
    assert [row[0] for row in rows] == [T0_MS + k * MINUTE_MS for k in range(5)]
    assert [row[5] for row in rows] == [100.75, 101.75, 101.25, 102.25, 103.25]  # close
    assert rows[1][1] == "2024-01-02T13:06:00Z"


def test_sqlite_export_into_a_file_that_is_not_a_database_fails_and_keeps_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "notes.db"
    out.write_text("my notes, not a database\n")
    with pytest.raises(DataError, match=r"notes\.db: cannot write table 'ohlcv'"):
        export_frame(bars(3), "sqlite", out)
    assert out.read_text() == "my notes, not a database\n"
    assert leftovers(tmp_path) == []


def test_unknown_format_and_bad_table_name_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="use one of: backtrader, csv, feather, parquet, sqlite"):
        export_frame(bars(), "xlsx", tmp_path / "b.xlsx")
    with pytest.raises(ConfigError, match="bad table name"):
        export_frame(bars(), "sqlite", tmp_path / "b.db", table="x; DROP TABLE y")
    assert list(tmp_path.iterdir()) == []


def test_backtrader_parquet_has_a_naive_utc_datetime_index(tmp_path: Path) -> None:
    back = pd.read_parquet(export_frame(bars(3, trades=True), "backtrader", tmp_path / "bt.pq"))
    assert back.index.name == "datetime"
    assert back.index.tz is None
    assert str(back.index[0]) == "2024-01-02 13:05:00"
    assert list(back.columns) == ["open", "high", "low", "close", "volume"]


def test_backtrader_feeds_every_exported_bar_to_a_strategy(tmp_path: Path) -> None:
    bt = pytest.importorskip("backtrader")
    path = export_frame(bars(5), "backtrader", tmp_path / "bt.parquet")
    seen: list[tuple[object, float, float]] = []

    class Record(bt.Strategy):
        def next(self) -> None:
            seen.append((self.data.datetime.datetime(0), self.data.close[0], self.data.volume[0]))

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=pd.read_parquet(path)))
    cerebro.addstrategy(Record)
    cerebro.run()
    assert len(seen) == 5
    assert str(seen[0][0]) == "2024-01-02 13:05:00"
    assert str(seen[-1][0]) == "2024-01-02 13:09:00"
    assert [close for _, close, _ in seen] == [100.75, 101.75, 102.75, 103.75, 104.75]
    assert seen[0][2] == 10.0
