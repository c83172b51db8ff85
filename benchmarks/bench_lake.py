"""Lake benchmarks against their peers; prints one JSON line of seconds and ratios.

Run: ``.venv/bin/python benchmarks/bench_lake.py``. Each section is a ``bench_*() -> dict``
that checks its results agree before reporting; ``main`` merges the sections.

derive: 1,000,000 one-minute bars → 5m / 1h / 4h with ``resample_table``, against
- floor: the least numpy can do (bucket boundaries, ``reduceat`` for high/low/volume,
  indexing for open/close) — we must stay within 1.5x of it;
- pandas ``resample().agg()`` and polars ``group_by_dynamic`` — we must beat both.
read: ``barlake.read`` of an instrument-year (12 month files) within 1.3x of pyarrow's
``read_table(...).to_pandas()`` of the same rows from one file.
merge: time to merge one day into a month for 1, 12 and 36-month series (must not grow).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from barlake.bars.frame import table_to_frame
from barlake.bars.resample import resample_table
from barlake.lake import Lake
from barlake.lake.months import encodings
from barlake.timeframes import MINUTE_MS, bucket_anchor, parse_timeframe

ROWS = 1_000_000
REPEAT = 7
DERIVE_TIMEFRAMES = ("5m", "1h", "4h")
OHLCV = ("open", "high", "low", "close", "volume")
START_MS = 1_577_836_800_000  # 2020-01-01 00:00 UTC


def minute_bars(rows: int = ROWS, seed: int = 7) -> pa.Table:
    """Consecutive 1m bars from 2020-01-01 UTC on a geometric random walk, seeded."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, rows)))
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = np.abs(rng.normal(0.0, 5e-4, (2, rows)))
    return pa.table(
        {
            "timestamp_ms": START_MS + np.arange(rows, dtype=np.int64) * MINUTE_MS,
            "open": open_,
            "high": np.maximum(open_, close) * (1.0 + wick[0]),
            "low": np.minimum(open_, close) * (1.0 - wick[1]),
            "close": close,
            "volume": rng.exponential(10.0, rows) + 1e-3,
        }
    )


def best_of(func: Callable[[], object], repeat: int = REPEAT) -> tuple[float, object]:
    """Warm up once (JIT, caches), then the best wall time of ``repeat`` runs and the result."""
    result = func()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best, result


def numpy_floor(arrays: dict[str, np.ndarray], tf_ms: int) -> dict[str, np.ndarray]:
    """The reference floor: numpy boundaries + reduceat + first/last indexing, nothing else."""
    ts = arrays["timestamp_ms"]
    bucket = ts - (ts - bucket_anchor(tf_ms)) % tf_ms
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    ends = np.concatenate((starts[1:], [ts.size])) - 1
    return {
        "timestamp_ms": bucket[starts],
        "open": arrays["open"][starts],
        "high": np.maximum.reduceat(arrays["high"], starts),
        "low": np.minimum.reduceat(arrays["low"], starts),
        "close": arrays["close"][ends],
        "volume": np.add.reduceat(arrays["volume"], starts),
    }


def pandas_derive(frame: pd.DataFrame, tf_ms: int) -> pd.DataFrame:
    rule = pd.Timedelta(milliseconds=tf_ms)
    how = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    resampler = frame.resample(rule, label="left", closed="left", origin="epoch")
    return resampler.agg(how).dropna()


def polars_derive(frame: pl.DataFrame, timeframe: str) -> pl.DataFrame:
    aggs = [
        pl.col("open").first(),
        pl.col("high").max(),
        pl.col("low").min(),
        pl.col("close").last(),
        pl.col("volume").sum(),
    ]
    grouped = frame.group_by_dynamic("time", every=timeframe, closed="left", label="left")
    return grouped.agg(aggs)


def check_agree(name: str, expected: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> None:
    """Prices are picked, never computed, so they must match exactly; volume sums to 1e-9."""
    for column in ("timestamp_ms", *OHLCV):
        same = np.allclose if column == "volume" else np.array_equal
        kwargs = {"rtol": 1e-9, "atol": 0.0} if column == "volume" else {}
        if not same(expected[column], got[column], **kwargs):
            raise AssertionError(f"derive: {name} disagrees with barlake on {column}")


def bench_derive() -> dict:
    table = minute_bars()
    arrays = {name: table.column(name).to_numpy() for name in table.column_names}
    frame = table_to_frame(table)
    polars_frame = pl.from_arrow(table).with_columns(
        pl.col("timestamp_ms").cast(pl.Datetime("ms", "UTC")).alias("time")
    )
    report: dict[str, dict[str, float]] = {}
    for timeframe in DERIVE_TIMEFRAMES:
        tf_ms = parse_timeframe(timeframe)
        ours_s, (ours, _) = best_of(lambda tf_ms=tf_ms: resample_table(table, tf_ms))
        floor_s, floor = best_of(lambda tf_ms=tf_ms: numpy_floor(arrays, tf_ms))
        pandas_s, by_pandas = best_of(lambda tf_ms=tf_ms: pandas_derive(frame, tf_ms), 5)
        polars_s, by_polars = best_of(lambda tf=timeframe: polars_derive(polars_frame, tf), 5)
        got = {name: ours.column(name).to_numpy() for name in ours.column_names}
        check_agree("numpy floor", floor, got)
        check_agree("pandas", _from_pandas(by_pandas), got)
        check_agree("polars", _from_polars(by_polars), got)
        report[timeframe] = {
            "ours_s": round(ours_s, 5),
            "floor_s": round(floor_s, 5),
            "pandas_s": round(pandas_s, 5),
            "polars_s": round(polars_s, 5),
            "ours_vs_floor": round(ours_s / floor_s, 3),
            "ours_vs_pandas": round(ours_s / pandas_s, 3),
            "ours_vs_polars": round(ours_s / polars_s, 3),
        }
    return {"derive": {"rows": table.num_rows, **report}}


def _from_pandas(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    stamps = frame.index.tz_convert("UTC").tz_localize(None).as_unit("ms").asi8
    return {"timestamp_ms": stamps, **{name: frame[name].to_numpy() for name in OHLCV}}


def _from_polars(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    stamps = frame["time"].dt.epoch("ms").to_numpy()
    return {"timestamp_ms": stamps, **{name: frame[name].to_numpy() for name in OHLCV}}


def year_table(start_ms: int = START_MS) -> pa.Table:
    """One instrument-year of 1m bars (525,600 rows) from the same seeded walk."""
    table = minute_bars(365 * 1440)
    ts = pa.array(start_ms + np.arange(table.num_rows, dtype=np.int64) * MINUTE_MS)
    return table.set_column(0, "timestamp_ms", ts)


def bench_read() -> dict:
    """barlake.read of 12 month files against pyarrow reading the same rows from one file."""
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp) / "lake")
        table = year_table()
        lake.write_key(lake.key("bench", "YEAR", "1m"), table)
        single = Path(tmp) / "one.parquet"
        # the peer reads one file written with the same encodings as our month files
        pq.write_table(
            table,
            single,
            compression="zstd",
            use_dictionary=False,
            column_encoding=encodings(table.schema),
        )
        ours_s, ours = best_of(lambda: lake.read("bench", "YEAR", "1m"), repeat=15)
        peer_s, peer = best_of(lambda: pq.read_table(single).to_pandas(), repeat=15)
        assert len(ours) == len(peer) == table.num_rows
        assert np.array_equal(ours["close"].to_numpy(), peer["close"].to_numpy())
    return {
        "read": {
            "rows": table.num_rows,
            "files": 12,
            "ours_s": round(ours_s, 5),
            "pyarrow_one_file_s": round(peer_s, 5),
            "ours_vs_pyarrow": round(ours_s / peer_s, 3),
        }
    }


def bench_merge() -> dict:
    """Merging one new day into a month must not cost more as the series grows."""
    out: dict[str, dict[str, float]] = {}
    for months in (1, 12, 36):
        with tempfile.TemporaryDirectory() as tmp:
            lake = Lake(tmp)
            key = lake.key("bench", "MERGE", "1m")
            days = int(months * 30.4)
            base = minute_bars(days * 1440)
            base = base.set_column(
                0,
                "timestamp_ms",
                pa.array(START_MS + np.arange(base.num_rows, dtype=np.int64) * MINUTE_MS),
            )
            lake.write_key(key, base)
            day = base.slice(base.num_rows - 1440 * 2, 1440)  # rewrite the last-but-one day
            seconds, _ = best_of(
                lambda lake=lake, key=key, day=day: lake.write_key(key, day), repeat=5
            )
            out[f"{months}_months"] = {
                "rows_in_series": base.num_rows,
                "merge_day_s": round(seconds, 5),
            }
    first, last = out["1_months"]["merge_day_s"], out["36_months"]["merge_day_s"]
    return {"merge": {**out, "growth_36_vs_1": round(last / first, 3)}}


def main() -> None:
    result: dict[str, object] = {}
    for section in (bench_derive, bench_read, bench_merge):
        result.update(section())
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
