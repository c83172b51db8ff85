"""Sinks: round trips, one row per key however often a bar is written, crash recovery, the
lake's coverage and derived series, and bad targets refused with a one-line ConfigError."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from barlake.errors import ConfigError
from barlake.lake import Lake
from barlake.stream.model import Bar, Snapshot, StreamConfig, Trade
from barlake.stream.sinks import open_sink, read_parts
from barlake.stream.sinks.columnar import ColumnarSink, part_files
from barlake.stream.sinks.lake import lake_instrument
from barlake.timeframes import MINUTE_MS

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
BAR_COLUMNS = ["symbol", "timeframe", "timestamp_ms", "open", "high", "low", "close", "volume"]


def make_bars(n: int, symbol="BTC/USDT", start=T0, seed=0, timeframe="1m") -> list[Bar]:
    rng = np.random.default_rng(seed)
    close = (100.0 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))).tolist()
    open_ = [100.0, *close[:-1]]
    return [
        Bar(
            symbol,
            timeframe,
            start + i * MINUTE_MS,
            o,
            max(o, c) + 0.5,
            min(o, c) - 0.5,
            c,
            i + 0.25,
        )
        for i, (o, c) in enumerate(zip(open_, close, strict=True))
    ]


def config(tmp_path: Path, fmt: str, **changes) -> StreamConfig:
    out = {"sqlite": tmp_path / "bars.sqlite", "csv": tmp_path / "bars.csv"}.get(
        fmt, tmp_path / "out"
    )
    base = StreamConfig("binance", ("BTC/USDT",), format=fmt, out=out, lake=tmp_path / "lake")
    return dataclasses.replace(base, **changes)


def bar_frame(bars: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame(bars, columns=BAR_COLUMNS).sort_values(
        ["symbol", "timeframe", "timestamp_ms"], ignore_index=True
    )


def sql_frame(path: Path, query: str) -> pd.DataFrame:
    with sqlite3.connect(path) as db:
        return pd.read_sql_query(query, db)


# --- SQLite ---------------------------------------------------------------------------------
def test_sqlite_upserts_keep_one_row_per_bar_with_the_last_values(tmp_path):
    bars = make_bars(5) + make_bars(3, symbol="ETH/USDT", seed=1)
    sink = open_sink(config(tmp_path, "sqlite"))
    sink.write_bars(bars)
    changed = [b._replace(close=b.low, volume=99.0) for b in bars[:2]]
    sink.write_bars(changed)
    sink.write_bars(bars[2:])  # a backfill overlapping a replay
    sink.close()
    got = sql_frame(tmp_path / "bars.sqlite", "SELECT * FROM ohlcv ORDER BY symbol, timestamp_ms")
    pd.testing.assert_frame_equal(got, bar_frame(changed + bars[2:]))


def test_sqlite_schema_has_the_unique_key_index_and_runs_in_wal_mode(tmp_path):
    open_sink(config(tmp_path, "sqlite", table="btc_1m")).close()
    with sqlite3.connect(tmp_path / "bars.sqlite") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(btc_1m)")]
        unique = [row[1] for row in db.execute("PRAGMA index_list(btc_1m)") if row[2]]
        (index,) = unique
        keyed = [row[2] for row in db.execute(f'PRAGMA index_info("{index}")')]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert columns == BAR_COLUMNS
    assert keyed == ["symbol", "timeframe", "timestamp_ms"]
    assert mode == "wal"


def test_sqlite_commits_every_flush_every_records(tmp_path):
    sink = open_sink(config(tmp_path, "sqlite", flush_every=3))
    count = "SELECT count(*) AS n FROM ohlcv"
    bars = make_bars(4)
    sink.write_bars(bars[:2])
    assert sql_frame(tmp_path / "bars.sqlite", count)["n"][0] == 0
    sink.write_bars(bars[2:3])
    assert sql_frame(tmp_path / "bars.sqlite", count)["n"][0] == 3
    sink.write_bars(bars[3:])
    sink.flush()
    assert sql_frame(tmp_path / "bars.sqlite", count)["n"][0] == 4
    sink.close()


def test_sqlite_stores_trades_and_snapshots_in_their_own_tables(tmp_path):
    sink = open_sink(config(tmp_path, "sqlite", kind="trades"))
    trades = [Trade("BTC/USDT", T0 + i, 100.0 + i, 0.5, "buy", str(i)) for i in range(3)]
    sink.write_trades(trades + trades[:1])
    sink.write_snapshots([Snapshot("BTC/USDT", "ticker", T0, {"bid": 1.0, "ask": 2.0})])
    sink.write_snapshots([Snapshot("BTC/USDT", "ticker", T0 + 1000, {"bid": 1.5, "last": 1.7})])
    sink.write_snapshots([Snapshot("BTC/USDT", "ticker", T0, {"bid": 1.1, "ask": 2.1})])
    sink.close()
    got = sql_frame(tmp_path / "bars.sqlite", "SELECT id, price FROM trades ORDER BY id")
    assert got.to_dict("list") == {"id": ["0", "1", "2"], "price": [100.0, 101.0, 102.0]}
    ticks = sql_frame(tmp_path / "bars.sqlite", "SELECT * FROM ticker ORDER BY timestamp_ms")
    assert list(ticks.columns) == ["symbol", "kind", "timestamp_ms", "bid", "ask", "last"]
    values = ticks[["bid", "ask", "last"]].fillna(-1.0).to_numpy().tolist()
    assert values == [[1.1, 2.1, -1.0], [1.5, -1.0, 1.7]]


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path):
    (tmp_path / "bars.sqlite").write_bytes(b"time,open\n1,2\n" * 100)
    with pytest.raises(ConfigError, match=r"bars\.sqlite is not a SQLite database"):
        open_sink(config(tmp_path, "sqlite"))


def test_sqlite_refuses_an_existing_table_with_other_columns(tmp_path):
    with sqlite3.connect(tmp_path / "bars.sqlite") as db:
        db.execute("CREATE TABLE ohlcv (timestamp_ms INTEGER PRIMARY KEY, close REAL)")
    with pytest.raises(ConfigError, match=r"table 'ohlcv' .* pick another --table"):
        open_sink(config(tmp_path, "sqlite"))
    sink = open_sink(config(tmp_path, "sqlite", table="live"))  # the way out the message names
    sink.close()


def test_sqlite_refuses_a_path_it_cannot_create_and_a_bad_table_name(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="pick a writable --out"):
        open_sink(config(tmp_path, "sqlite", out=blocker / "bars.sqlite"))
    with pytest.raises(ConfigError, match="bad table name"):
        open_sink(config(tmp_path, "sqlite", table="ohlcv; DROP TABLE x"))


# --- CSV ------------------------------------------------------------------------------------
def test_csv_round_trips_and_skips_repeats_across_restarts(tmp_path):
    bars = make_bars(6)
    with open_sink(config(tmp_path, "csv", flush_every=2)) as sink:
        sink.write_bars(bars[:4] + bars[:1])
    with open_sink(config(tmp_path, "csv")) as sink:  # a restart replays and goes on
        sink.write_bars(bars[2:])
    got = pd.read_csv(tmp_path / "bars.csv")
    pd.testing.assert_frame_equal(got, bar_frame(bars))
    assert (tmp_path / "bars.csv").read_text().count("symbol,") == 1  # one header


def test_csv_cuts_a_torn_last_line_left_by_a_crash(tmp_path):
    bars = make_bars(4)
    with open_sink(config(tmp_path, "csv")) as sink:
        sink.write_bars(bars[:2])
    with (tmp_path / "bars.csv").open("ab") as fh:
        fh.write(b"BTC/USDT,1m,1704067320000,100.1,10")  # the crash hit mid-line
    with open_sink(config(tmp_path, "csv")) as sink:
        sink.write_bars(bars[2:])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "bars.csv"), bar_frame(bars))


def test_csv_with_only_a_torn_header_starts_over(tmp_path):
    (tmp_path / "bars.csv").write_bytes(b"symbol,timefr")
    with open_sink(config(tmp_path, "csv")) as sink:
        sink.write_bars(make_bars(2))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "bars.csv"), bar_frame(make_bars(2)))


def test_csv_trades_skip_a_replay_but_keep_new_ids_at_the_same_millisecond(tmp_path):
    cfg = config(tmp_path, "csv", kind="trades", out=tmp_path / "csv")
    first = [Trade("BTC/USDT", T0 + i // 2, 100.0, 1.0, "buy", str(i)) for i in range(4)]
    with open_sink(cfg) as sink:
        sink.write_trades(first)
    more = [
        *first[1:],
        Trade("BTC/USDT", T0 + 1, 100.0, 1.0, "sell", "9"),
        Trade("BTC/USDT", T0 + 5, 1.0, 1.0, "buy", "10"),
    ]
    with open_sink(cfg) as sink:
        sink.write_trades(more)
    got = pd.read_csv(tmp_path / "csv" / "trades.csv", dtype={"id": str})
    assert got["id"].tolist() == ["0", "1", "2", "3", "9", "10"]


def test_csv_snapshots_get_columns_from_the_first_batch(tmp_path, caplog):
    cfg = config(tmp_path, "csv", kind="orderbook", out=tmp_path / "csv")
    books = [
        Snapshot("BTC/USDT", "orderbook", T0 + i, {"bid_px_0": 1.0 + i, "ask_px_0": 2.0})
        for i in range(2)
    ]
    with open_sink(cfg) as sink:
        sink.write_snapshots(books + books[:1])
        sink.write_snapshots(
            [Snapshot("BTC/USDT", "orderbook", T0 + 9, {"bid_px_0": 3.0, "bid_px_1": 2.5})]
        )
    got = pd.read_csv(tmp_path / "csv" / "orderbook.csv")
    assert list(got.columns) == ["symbol", "kind", "timestamp_ms", "bid_px_0", "ask_px_0"]
    assert got["bid_px_0"].tolist() == [1.0, 2.0, 3.0] and got["ask_px_0"].isna().tolist() == [
        False,
        False,
        True,
    ]
    assert "bid_px_1" in caplog.text


def test_csv_refuses_a_file_with_another_header_and_an_unwritable_path(tmp_path):
    (tmp_path / "bars.csv").write_text("time,open,high,low,close,volume\n")
    with pytest.raises(ConfigError, match=r"bars\.csv has columns \(time"):
        open_sink(config(tmp_path, "csv"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"cannot write .* pick a writable --out"):
        open_sink(config(tmp_path, "csv", out=tmp_path / "file" / "bars.csv"))


WRITER = """
import sys
from pathlib import Path
from barlake.stream.model import Bar, StreamConfig
from barlake.stream.sinks import open_sink
fmt, out = sys.argv[1], Path(sys.argv[2])
sink = open_sink(StreamConfig("binance", ("X",), format=fmt, out=out, flush_every=1))
i = 0
while True:
    t = 1_704_067_200_000 + i * 60_000
    sink.write_bars([Bar("X", "1m", t, 1.0, 2.0, 0.5, 1.5, float(i))])
    if i == 50:
        print("ready", flush=True)
    i += 1
"""


@pytest.mark.parametrize(("fmt", "name"), [("csv", "bars.csv"), ("parquet", "out")])
def test_a_killed_writer_leaves_whole_rows_and_a_restart_goes_on_without_repeats(
    tmp_path, fmt, name
):
    out = tmp_path / name
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), fmt, str(out)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with open_sink(config(tmp_path, fmt, out=out, symbols=("X",))) as sink:
        # a restart replays the last bars it may have lost, plus new ones
        sink.write_bars(
            [
                Bar("X", "1m", T0 + i * MINUTE_MS, 1.0, 2.0, 0.5, 1.5, float(i))
                for i in range(40, 60)
            ]
        )
    got = pd.read_csv(out) if fmt == "csv" else read_parts(out / "ohlcv").to_pandas()
    assert got["timestamp_ms"].is_unique and len(got) >= 60
    assert np.array_equal(got["volume"], (got["timestamp_ms"] - T0) // MINUTE_MS)
    assert not list(out.parent.rglob("*.tmp-*"))


# --- Parquet / Feather ----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_columnar_parts_read_back_with_the_last_write_winning(tmp_path, fmt):
    bars = make_bars(5)
    fixed = [b._replace(close=b.high) for b in bars[1:3]]
    with open_sink(config(tmp_path, fmt)) as sink:
        sink.write_bars(bars)
        sink.write_bars(fixed)
    with open_sink(config(tmp_path, fmt)) as sink:  # a restart starts a new part
        sink.write_bars(bars[4:])
    parts = part_files(tmp_path / "out" / "ohlcv")
    assert len(parts) == 2 and all(p.suffix == f".{fmt}" for p in parts)
    got = read_parts(tmp_path / "out" / "ohlcv").to_pandas()
    pd.testing.assert_frame_equal(got, bar_frame([bars[0], *fixed, *bars[3:]]))


def test_columnar_parts_roll_by_rows_and_by_age_and_sort_in_write_order(tmp_path):
    now = [1_000.0]
    sink = ColumnarSink(
        tmp_path / "out", {"ohlcv": "ohlcv"}, roll_rows=3, roll_seconds=60, clock=lambda: now[0]
    )
    bars = make_bars(8)
    for bar in bars[:6]:
        sink.write_bars([bar])
    now[0] -= 500.0  # the clock steps back: the next part must still sort after the others
    sink.write_bars(bars[6:7])
    sink.write_bars(bars[7:])
    now[0] += 600.0
    sink.write_bars(make_bars(1, start=T0 + 8 * MINUTE_MS))
    sink.close()
    parts = part_files(tmp_path / "out" / "ohlcv")
    sizes = [pq.read_metadata(p).num_rows for p in parts]
    assert sizes == [3, 3, 2, 1]
    firsts = [pq.read_table(p).column("timestamp_ms")[0].as_py() for p in parts]
    assert firsts == sorted(firsts)


def test_columnar_trades_and_snapshots_get_their_own_folders(tmp_path):
    with open_sink(config(tmp_path, "parquet", kind="ticker", table="tick")) as sink:
        sink.write_snapshots([Snapshot("BTC/USDT", "ticker", T0, {"bid": 1.0, "ask": None})])
        sink.write_snapshots([Snapshot("BTC/USDT", "ticker", T0 + 5, {"bid": 2.0, "last": 3.0})])
        sink.write_trades([Trade("BTC/USDT", T0, 1.0, 2.0, "buy", "7")] * 2)
    ticks = read_parts(tmp_path / "out" / "tick").to_pydict()
    assert (
        ticks["bid"] == [1.0, 2.0] and ticks["ask"] == [None, None] and ticks["last"] == [None, 3.0]
    )
    assert read_parts(tmp_path / "out" / "trades").to_pydict()["id"] == ["7"]


def test_columnar_refuses_an_out_that_is_a_file(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(ConfigError, match="pick a writable --out folder"):
        open_sink(config(tmp_path, "parquet"))


# --- lake -----------------------------------------------------------------------------------
def test_lake_sink_merges_1m_bars_records_their_coverage_and_derives_on_close(tmp_path):
    cfg = config(tmp_path, "lake", market="swap", symbols=("BTC/USDT:USDT",))
    bars = make_bars(10, symbol="BTC/USDT:USDT") + make_bars(
        5, symbol="BTC/USDT:USDT", start=T0 + 20 * MINUTE_MS
    )
    with open_sink(cfg) as sink:
        sink.write_bars(bars[:12])
        sink.write_bars(bars[8:])  # overlap
    lake = Lake(tmp_path / "lake")
    got = lake.read("binance_swap", "BTCUSDT", "1m")
    assert got.index.as_unit("ms").asi8.tolist() == [b.timestamp_ms for b in bars]
    assert got["close"].tolist() == [b.close for b in bars]
    key = lake.key("binance_swap", "BTCUSDT", "1m")
    assert lake.coverage(key).answered == [
        (T0, T0 + 10 * MINUTE_MS),
        (T0 + 20 * MINUTE_MS, T0 + 25 * MINUTE_MS),
    ]
    five = lake.read("binance_swap", "BTCUSDT", "5m")
    assert five.index.as_unit("ms").asi8.tolist() == [T0 + m * MINUTE_MS for m in (0, 5, 20)]
    assert five["volume"].tolist() == [sum(b.volume for b in bars[i : i + 5]) for i in (0, 5, 10)]
    assert (tmp_path / "lake" / "ohlcv" / "binance_swap" / "BTCUSDT" / "4h").is_dir()


def test_lake_sink_uses_the_instrument_names_it_is_given(tmp_path):
    cfg = config(
        tmp_path,
        "lake",
        exchange="okx",
        options={"instruments": {"BTC/USDT": "BTC-USDT"}, "derive": []},
    )
    with open_sink(cfg) as sink:
        sink.write_bars(make_bars(2))
    assert Lake(tmp_path / "lake").series() == [
        Lake(tmp_path / "lake").key("okx", "BTC-USDT", "1m")
    ]


def test_lake_instrument_names_follow_the_venue_style_sync_uses():
    assert lake_instrument("BTC/USDT") == "BTCUSDT"
    assert lake_instrument("BTC/USDC:USDC") == "BTCUSDC"
    assert lake_instrument("BTC/USD:BTC-240329") == "BTCUSD_240329"


def test_lake_sink_refuses_other_timeframes_and_kinds(tmp_path):
    with pytest.raises(ConfigError, match=r"1m bars .* not 5m"):
        open_sink(config(tmp_path, "lake", timeframe="5m"))
    with pytest.raises(ConfigError, match="bars only"):
        open_sink(config(tmp_path, "lake", kind="trades"))
    sink = open_sink(config(tmp_path, "lake", kind="trades", trades_to_ohlcv=True))
    with pytest.raises(ConfigError, match="1m bars"):  # wrong bars never reach the lake
        sink.write_bars(make_bars(1, timeframe="5m"))
    assert not (tmp_path / "lake" / "ohlcv" / "binance").exists()


def test_open_sink_refuses_unknown_formats_and_a_missing_out(tmp_path):
    with pytest.raises(ConfigError, match="unknown --format"):
        open_sink(config(tmp_path, "xlsx"))
    with pytest.raises(ConfigError, match="needs --out"):
        open_sink(config(tmp_path, "parquet", out=None))
