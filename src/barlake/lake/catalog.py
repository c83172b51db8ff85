"""The lake seen as one table: a DuckDB view `ohlcv` and a per-series summary for `barlake ls`."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from barlake.errors import ConfigError, CorruptFileError
from barlake.lake import intervals as iv
from barlake.lake.layout import OHLCV, SeriesKey
from barlake.lake.store import Lake
from barlake.timeframes import parse_timeframe


@dataclass
class SeriesSummary:
    key: SeriesKey
    first: int | None
    last: int | None
    rows: int
    gaps: int
    months: int


def summarize(lake: Lake, key: SeriesKey) -> SeriesSummary:
    """Gaps = holes between first and last bar that no source has answered."""
    months = lake.months(key)
    ts = lake.timestamps(key)
    if not ts.size:
        return SeriesSummary(key, None, None, 0, 0, len(months))
    rows = int(ts.size)
    tf = parse_timeframe(key.timeframe)
    first, last = int(ts[0]), int(ts[-1])
    known = iv.union(lake.coverage(key).answered, iv.from_points(ts, tf))
    holes = iv.subtract([(first, last + tf)], known)
    return SeriesSummary(key, first, last, rows, len(holes), len(months))


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with a view `ohlcv` over every month file, plus series columns."""
    con = duckdb.connect(":memory:")
    pattern = str(lake.root / OHLCV / "*" / "*" / "*" / "*" / "*.parquet")
    if not any(lake.months(k) for k in lake.series()):
        con.execute(
            "CREATE VIEW ohlcv AS SELECT ''::VARCHAR source, ''::VARCHAR instrument, "
            "''::VARCHAR timeframe, 0::BIGINT timestamp_ms, 0::DOUBLE open, 0::DOUBLE high, "
            "0::DOUBLE low, 0::DOUBLE close, 0::DOUBLE volume WHERE false"
        )
        return con
    path = pattern.replace("'", "''")
    try:
        _create_view(con, path)
    except duckdb.Error as exc:
        con.close()
        first_line = str(exc).strip().splitlines()[0]
        raise CorruptFileError(
            f"a lake file is unreadable ({first_line}); run `barlake verify --repair`"
        ) from exc
    return con


def _create_view(con: duckdb.DuckDBPyConnection, path: str) -> None:
    con.execute(
        f"""CREATE VIEW ohlcv AS
        SELECT split_part(f, '/', -5) AS source, split_part(f, '/', -4) AS instrument,
               split_part(f, '/', -3) AS timeframe, * EXCLUDE (f, filename)
        FROM (SELECT replace(filename, '\\', '/') AS f, *
              FROM read_parquet('{path}', filename = true, union_by_name = true))"""
    )


def sql(lake: Lake, query: str) -> tuple[list[str], list[tuple]]:
    """Run one query against the `ohlcv` view; DuckDB errors become one-line ConfigErrors."""
    con = connect(lake)
    try:
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description] if cursor.description else []
        return names, cursor.fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise ConfigError(f"SQL failed: {first_line}") from exc
    finally:
        con.close()
