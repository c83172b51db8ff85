"""The lake as one DuckDB view and as per-series summaries for `barlake ls`."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from barlake.bars.derive import derive
from barlake.errors import BarlakeError, ConfigError, CorruptFileError
from barlake.lake.catalog import SeriesSummary, sql, summarize
from barlake.lake.verify import quarantine
from barlake.timeframes import MINUTE_MS
from spans import ms, span

VIEW_COLUMNS = [
    "source",
    "instrument",
    "timeframe",
    "timestamp_ms",
    "open",
    "high",
    "low",
    "close",
    "volume",
]


T0 = "2024-01-31T23:00"  # one hour before February: a series that spans two month files


def minutes(frame: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """Rows lo..hi-1 (minutes after T0)."""
    return frame.iloc[lo:hi]


def test_summarize_counts_rows_and_gaps_nobody_answered(lake, walk):
    truth = walk(T0, 100, seed=1)
    t0 = ms(T0)

    def at(minute: int) -> int:
        return t0 + minute * MINUTE_MS

    # bars at minutes [0, 10), [20, 30), [70, 80), [90, 100)
    # answered [0, 30) (so [10, 20) is known empty) and [70, 80): the holes are [30, 70) and [80, 90)
    kept = pd.concat([minutes(truth, a, b) for a, b in [(0, 10), (20, 30), (70, 80), (90, 100)]])
    lake.write("binance", "BTCUSDT", "1m", kept, covered=[(at(0), at(30)), (at(70), at(80))])
    key = lake.key("binance", "BTCUSDT", "1m")

    summary = summarize(lake, key)

    assert summary == SeriesSummary(key, first=at(0), last=at(99), rows=40, gaps=2, months=2)


def test_summarize_counts_no_gap_when_the_only_hole_is_known_empty(lake, walk):
    truth = walk(T0, 60, seed=2)
    kept = pd.concat([truth.iloc[:10], truth.iloc[40:]])
    lake.write("binance", "BTCUSDT", "1m", kept, covered=[span(truth)])
    key = lake.key("binance", "BTCUSDT", "1m")

    summary = summarize(lake, key)

    assert (summary.rows, summary.gaps, summary.months) == (30, 0, 1)
    assert (summary.first, summary.last) == (ms(T0), ms(T0) + 59 * MINUTE_MS)


def test_summarize_of_a_series_with_coverage_but_no_bars_is_empty(lake):
    key = lake.key("binance", "BTCUSDT", "1m")
    lake.add_coverage(key, [(ms("2024-01-06"), ms("2024-01-08"))])
    assert summarize(lake, key) == SeriesSummary(key, None, None, 0, 0, 0)


def test_summarize_names_an_unreadable_month_file(lake, walk):
    lake.write("binance", "BTCUSDT", "1m", walk(T0, 120, seed=3))
    key = lake.key("binance", "BTCUSDT", "1m")
    path = lake.path(key, 2024, 2)
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(CorruptFileError, match="verify --repair") as info:
        summarize(lake, key)
    assert str(path) in str(info.value)


@pytest.fixture
def two_sources(lake, walk):
    """binance and okx BTCUSDT 1m over the same two hours, plus binance's derived 1h."""
    frames = {
        "binance": walk(T0, 120, seed=10, price=100.0),
        "okx": walk(T0, 120, seed=11, price=200.0),
    }
    okx_extra = frames["okx"].assign(trades=range(120))
    lake.write("binance", "BTCUSDT", "1m", frames["binance"], covered=[span(frames["binance"])])
    lake.write("okx", "BTCUSDT", "1m", okx_extra, covered=[span(frames["okx"])])
    derive(lake, "binance", "BTCUSDT", "1h")
    return frames


def test_sql_aggregates_per_source_instrument_and_timeframe(lake, two_sources):
    names, rows = sql(
        lake,
        "SELECT source, instrument, timeframe, count(*) AS n, sum(volume) AS vol, "
        "max(high) AS hi, min(low) AS lo, min(timestamp_ms) AS first "
        "FROM ohlcv GROUP BY ALL ORDER BY ALL",
    )

    assert names == ["source", "instrument", "timeframe", "n", "vol", "hi", "lo", "first"]
    expected = []
    for source, tf, frame in [
        ("binance", "1h", lake.read("binance", "BTCUSDT", "1h")),
        ("binance", "1m", two_sources["binance"]),
        ("okx", "1m", two_sources["okx"]),
    ]:
        expected.append(
            (
                source,
                "BTCUSDT",
                tf,
                len(frame),
                frame["volume"].sum(),
                frame["high"].max(),
                frame["low"].min(),
                ms(T0),
            )
        )
    assert rows == expected
    assert rows[0][3] == 2  # both hours are whole
    assert rows[0][4] == rows[1][4]  # derived volume adds up to the 1m volume


def test_sql_view_has_series_columns_first_and_extras_by_name(lake, two_sources):
    names, rows = sql(
        lake,
        "SELECT * FROM ohlcv WHERE timeframe = '1m' ORDER BY source, timestamp_ms LIMIT 1 OFFSET 119",
    )
    assert names == [*VIEW_COLUMNS, "trades"]
    row = dict(zip(names, rows[0], strict=True))
    last = two_sources["binance"].iloc[119]
    assert row["source"] == "binance"
    assert row["timestamp_ms"] == ms(T0) + 119 * MINUTE_MS
    assert (row["open"], row["close"], row["volume"]) == (
        last["open"],
        last["close"],
        last["volume"],
    )
    assert row["trades"] is None  # binance has no trades column

    _, okx = sql(lake, "SELECT sum(trades), max(trades) FROM ohlcv WHERE source = 'okx'")
    assert okx == [(sum(range(120)), 119)]


def test_sql_ignores_temp_files_and_quarantined_months(lake, two_sources):
    key = lake.key("okx", "BTCUSDT", "1m")
    good = pq.read_table(lake.path(key, 2024, 1))
    pq.write_table(good, lake.path(key, 2024, 1).with_name("01.parquet.tmp-999-deadbeef"))
    quarantine(lake, key, 2024, 2)

    _, rows = sql(lake, "SELECT source, timeframe, count(*) FROM ohlcv GROUP BY ALL ORDER BY ALL")

    assert rows == [("binance", "1h", 2), ("binance", "1m", 120), ("okx", "1m", 60)]


@pytest.mark.parametrize(
    "query",
    ["SELEC 1", "SELECT nope FROM ohlcv", "SELECT * FROM missing_table", "SELECT 1/'a'::INT"],
)
def test_bad_sql_raises_a_one_line_config_error(lake, two_sources, query):
    with pytest.raises(ConfigError) as info:
        sql(lake, query)
    message = str(info.value)
    assert message.startswith("SQL failed: ")
    assert "\n" not in message


def test_sql_over_an_empty_lake_sees_an_empty_view(lake):
    names, rows = sql(lake, "SELECT * FROM ohlcv")
    assert names == VIEW_COLUMNS
    assert rows == []
    assert sql(lake, "SELECT count(*) AS n FROM ohlcv") == (["n"], [(0,)])


def test_sql_over_a_lake_with_only_coverage_sees_an_empty_view(lake):
    lake.add_coverage(lake.key("binance", "BTCUSDT", "1m"), [(0, MINUTE_MS)])
    assert sql(lake, "SELECT count(*) AS n FROM ohlcv") == (["n"], [(0,)])


def test_sql_runs_queries_that_do_not_touch_the_view(lake, two_sources):
    names, rows = sql(lake, "SELECT 42 AS answer")
    assert (names, rows) == (["answer"], [(42,)])


def test_sql_over_a_lake_with_an_unreadable_month_raises_a_barlake_error(lake, two_sources):
    key = lake.key("okx", "BTCUSDT", "1m")
    lake.path(key, 2024, 2).write_bytes(b"garbage")
    with pytest.raises(BarlakeError) as info:
        sql(lake, "SELECT count(*) FROM ohlcv")
    message = str(info.value)
    assert "\n" not in message
    assert "verify" in message


def test_written_month_files_are_plain_zstd_parquet_in_lake_order(lake, two_sources):
    path = lake.path(lake.key("okx", "BTCUSDT", "1m"), 2024, 1)
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    table = pq.read_table(path)
    assert table.schema.names == [
        "timestamp_ms",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "trades",
    ]
    assert table.schema.field("trades").type == pa.int64()
