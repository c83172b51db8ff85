"""Where a stream's bars, trades and snapshots go: SQLite, CSV, Parquet/Feather parts, the lake.

`open_sink(config)` picks the sink for `config.format`. Every sink keeps one row per key
(bars: symbol, timeframe, open time), buffers `config.flush_every` records before making them
durable, and fails at open, with a one-line ConfigError, on a target it cannot use.
"""

from __future__ import annotations

from barlake.errors import ConfigError
from barlake.instruments.cells import source_name
from barlake.lake.store import Lake
from barlake.stream.model import FORMATS, Sink, StreamConfig
from barlake.stream.sinks.columnar import ROLL_ROWS, ROLL_SECONDS, ColumnarSink, read_parts
from barlake.stream.sinks.csv import CsvSink
from barlake.stream.sinks.lake import DERIVE, LakeSink, lake_instrument
from barlake.stream.sinks.rows import primary_kind, table_names
from barlake.stream.sinks.sqlite import SqliteSink
from barlake.timeframes import canonical

_OUT_HINT = {
    "sqlite": "a .sqlite file",
    "csv": "a .csv file or a folder",
    "parquet": "a folder",
    "feather": "a folder",
}


def open_sink(config: StreamConfig) -> Sink:
    """The sink `config` asks for, its target opened and checked.

    ``config.options`` may carry ``roll_rows`` / ``roll_seconds`` (Parquet, Feather),
    ``instruments`` (symbol → lake name) and ``derive`` (timeframes derived on close; the
    lake).
    """
    fmt = config.format.strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {config.format!r}; use one of {', '.join(FORMATS)}")
    primary = primary_kind(config)
    if fmt == "lake":
        return _open_lake(config, primary)
    if config.out is None:
        raise ConfigError(f"--format {fmt} needs --out ({_OUT_HINT[fmt]})")
    tables = table_names(config)
    every = config.flush_every
    if fmt == "sqlite":
        return SqliteSink(config.out, tables, flush_every=every, primary=primary)
    if fmt == "csv":
        return CsvSink(config.out, tables, flush_every=every, primary=primary)
    return ColumnarSink(
        config.out,
        tables,
        fmt=fmt,
        flush_every=every,
        primary=primary,
        roll_rows=int(_number(config, "roll_rows", ROLL_ROWS)),
        roll_seconds=_number(config, "roll_seconds", ROLL_SECONDS),
    )


def _number(config: StreamConfig, name: str, default: float) -> float:
    value = config.options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"option {name} must be a number, not {value!r}")
    return float(value)


def _open_lake(config: StreamConfig, primary: str) -> LakeSink:
    if primary != "ohlcv":
        raise ConfigError(
            f"the lake stores bars only, not {primary}; use --format sqlite, csv, parquet or "
            "feather, or build bars with --trades-to-ohlcv"
        )
    if canonical(config.timeframe) != "1m":
        raise ConfigError(
            f"the lake takes 1m bars from a stream, not {config.timeframe}; stream --timeframe 1m "
            "(5m/1h/4h are derived from it)"
        )
    instruments = config.options.get("instruments") or {}
    derive = config.options.get("derive", DERIVE)
    if not isinstance(instruments, dict) or not isinstance(derive, list | tuple):
        raise ConfigError("options: instruments must map symbol → name, derive list timeframes")
    return LakeSink(
        Lake(config.lake),
        source_name(config.exchange.strip().lower(), config.market),
        instruments={str(k): str(v) for k, v in instruments.items()},
        derive_timeframes=[str(tf) for tf in derive],
        flush_every=config.flush_every,
    )


__all__ = [
    "ColumnarSink",
    "CsvSink",
    "LakeSink",
    "SqliteSink",
    "lake_instrument",
    "open_sink",
    "read_parts",
]
