"""Bar files from elsewhere (CSV, MT5 exports, Parquet, Feather) → one lake-shaped Arrow table.

The importer only reshapes: it finds the columns, turns every way of writing a time into the UTC
epoch ms of the bar open, and casts with `schema.conform`. Validation and dedup stay with the
lake, so an imported file and a venue download pass the very same checks.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq

from barlake.bars.schema import PRICE_COLUMNS, TIMESTAMP, conform
from barlake.errors import ConfigError, DataError

# Names are compared after _norm: '<TICKVOL>' → 'tickvol', 'Open Time' → 'open_time'.
_TIME_SINGLE = (
    "timestamp_ms", "timestamp", "datetime", "date_time", "open_time", "ts",
    "gmt_time", "utc_time", "time_utc", "index_level_0",
)  # fmt: skip
_PRICE_ALIASES = {
    "open": ("open", "o", "open_price"), "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"), "close": ("close", "c", "close_price", "last"),
}  # fmt: skip
_REAL_VOLUME = ("volume", "vol", "v", "real_volume", "base_volume")
_TICK_VOLUME = ("tick_volume", "tickvol", "tick_vol", "ticks")
_EXTRAS = {"trades": ("trades", "number_of_trades", "num_trades"),
           "quote_volume": ("quote_volume", "quote_asset_volume", "quote_av")}  # fmt: skip
_TIME_ORDER = (*_TIME_SINGLE, "time", "date")  # most specific first
_TIME_NAMES = frozenset(_TIME_ORDER)
_KNOWN = _TIME_NAMES.union(*_PRICE_ALIASES.values(), _REAL_VOLUME, _TICK_VOLUME, *_EXTRAS.values())

# Headerless layouts, by column count: plain OHLCV, and Binance's public kline dumps.
_PLAIN = ("time", "open", "high", "low", "close", "volume")
_DATE_TIME = ("date", "time", "open", "high", "low", "close", "volume")
_BINANCE = (
    "open_time", "open", "high", "low", "close", "volume", "close_time",
    "quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)  # fmt: skip
_CLOCK = re.compile(r"\d{1,2}:\d\d(:\d\d)?")

# Epoch unit from each |value|: below 1e11 seconds (good to year 5138), below 1e14 ms, below 1e17
# µs, else ns. Each bound is where the next finer unit would put the bar before 1973-03-03, so
# any bar since then is classified right, and a column must keep to one unit.
_EPOCH_BOUNDS = (1e11, 1e14, 1e17)
_EPOCH_UNITS = (("s", 1000, 1), ("ms", 1, 1), ("µs", 1, 1000), ("ns", 1, 1_000_000))
# Whole numbers in this range are YYYYMMDD dates: as epoch seconds they would be Aug–Sep 1970.
_YYYYMMDD = (19000101, 21001231)
# ISO8601 in pandas also takes year-first with '.', '/' or no separator (MT5, histdata);
# day-first dotted dates (Dukascopy) need their own. Slash day/month order is never guessed.
_TEXT_FORMATS = (
    "ISO8601", "%d.%m.%Y %H:%M:%S.%f", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
)  # fmt: skip
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")
_SAMPLE = 64  # rows tried against each format before the whole column is held to the winner

_MAGIC = (
    (b"PAR1", "parquet"), (b"ARROW1", "feather"), (b"FEA1", "feather"),
    (b"\xff\xff\xff\xff", "arrow stream"),  # IPC stream: starts with a continuation marker
)  # fmt: skip
_BINARY_EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".feather": "feather",
                      ".arrow": "feather", ".ipc": "feather"}  # fmt: skip


@dataclass(frozen=True)
class _Column:
    """Where a value came from, so an error names the file, the column and the data row."""

    path: Path | str
    name: str

    def error(self, values: pd.Series, i: int, why: str) -> DataError:
        shown = values.iloc[i]
        shown = "an empty value" if shown is None or pd.isna(shown) else repr(str(shown))
        return DataError(f"{self.path}: {self.name} has {shown} at data row {i + 1}; {why}")


def read_bar_file(path: Path, *, tz: str = "UTC") -> pa.Table:
    """Read one bar file into the lake's columns; the lake validates and dedups afterwards.

    Naive times are wall-clock times in `tz` (an IANA name) and become UTC; times that carry an
    offset and numeric epochs are already absolute, so `tz` does not touch them. A missing
    volume column becomes 0.0 (quote-only FX files); missing open/high/low/close is an error.
    """
    path = Path(path)
    _check_tz(tz)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file; check the path")
    raw = _read_any(path)
    return _to_lake(raw, path, tz)


def _check_tz(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {tz!r}: use an IANA name such as UTC or Europe/Prague"
        ) from exc


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _first(by_norm: dict[str, str], aliases: tuple[str, ...]) -> str | None:
    return next((by_norm[a] for a in aliases if a in by_norm), None)


def _read_any(path: Path) -> pa.Table:
    with path.open("rb") as fh:
        head = fh.read(16384)
    if not head:
        raise DataError(f"{path}: the file is empty; nothing to import")
    kind = _detect_format(path, head)
    try:
        if kind == "parquet":
            return pq.read_table(path)
        if kind == "feather":
            return feather.read_table(path)
        if kind == "arrow stream":
            with pa.OSFile(str(path)) as source:
                return pa.ipc.open_stream(source).read_all()
        return _read_csv(path, head)
    except (pa.ArrowException, OSError) as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"{path}: cannot read it as {kind}: {detail}") from exc


def _detect_format(path: Path, head: bytes) -> str:
    """Magic bytes first (they do not lie), then the extension, then 'is it text?'."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    declared = _BINARY_EXTENSIONS.get(path.suffix.lower())
    if declared:
        return declared
    if _text_encoding(head) is not None:
        return "csv"
    raise DataError(
        f"{path}: unknown file format; import CSV/TSV text, MT5 exports, Parquet or Feather/Arrow"
    )


def _text_encoding(head: bytes) -> str | None:
    """Encoding for pyarrow, from the BOM or the bytes; None when the file is not text."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) > 8 and head[0] != 0 and head[1::2].count(0) * 2 > len(head[1::2]):
        return "utf-16-le"  # UTF-16 without a BOM: every other byte of ASCII text is zero
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "utf8" if exc.start >= len(head) - 3 else "latin-1"  # cut mid-character is fine
    return "utf8"


def _read_csv(path: Path, head: bytes) -> pa.Table:
    encoding = _text_encoding(head) or "utf8"
    text = head.decode("utf-8" if encoding == "utf8" else encoding, errors="ignore")
    lines = [line for line in text.splitlines() if line.strip()]
    first = lines[0].lstrip("\ufeff")
    delimiter = max(("\t", ";", ","), key=first.count)
    if first.count(delimiter) == 0:
        raise DataError(f"{path}: no comma, semicolon or tab in the first line; is it a CSV file?")
    # A ';' or tab file with commas in its rows writes decimals the European way.
    decimal = "," if delimiter != "," and any("," in line for line in lines[1:]) else "."
    fields = [f[1:-1] if len(f) > 1 and f[0] == f[-1] == '"' else f for f in first.split(delimiter)]
    names = _headerless_names(fields, path)
    header = names or fields
    # Times stay text so a bad one is reported with its row instead of failing the whole block.
    as_text = {name: pa.string() for name in header if _norm(name) in _TIME_NAMES}
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding, column_names=names),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(column_types=as_text, decimal_point=decimal),
    )


def _headerless_names(fields: list[str], path: Path) -> list[str] | None:
    """Names for a file whose first line is already data; None when that line is a header."""
    if any(_norm(f) in _KNOWN for f in fields) or len(fields) < 5:
        return None
    if pd.to_numeric(pd.Series(fields[-4:]), errors="coerce").isna().any():
        return None
    count = len(fields)
    if _CLOCK.fullmatch(fields[1].strip()) and count in (6, 7):
        return list(_DATE_TIME[:count])
    if count in (5, 6):
        return list(_PLAIN[:count])
    if count == len(_BINANCE):
        return list(_BINANCE)
    raise DataError(
        f"{path}: the first line holds data, not column names, and has {count} columns; "
        "add a header row such as time,open,high,low,close,volume"
    )


def _to_lake(raw: pa.Table, path: Path, tz: str) -> pa.Table:
    by_norm: dict[str, str] = {}
    for name in raw.column_names:
        by_norm.setdefault(_norm(name), name)
    seen = ", ".join(raw.column_names)
    time_cols = _time_columns(by_norm)
    if not time_cols:
        raise DataError(
            f"{path}: no time column found (columns seen: {seen}); "
            "name it time, date, datetime or timestamp"
        )
    prices = {canon: _first(by_norm, aliases) for canon, aliases in _PRICE_ALIASES.items()}
    missing = [canon for canon, name in prices.items() if name is None]
    if missing:
        raise DataError(
            f"{path}: no {', '.join(missing)} column (columns seen: {seen}); "
            "name them open, high, low, close (or o, h, l, c)"
        )
    arrays = {TIMESTAMP: pa.array(_time_ms(raw, time_cols, path, tz), pa.int64())}
    for canon in PRICE_COLUMNS:
        name = str(prices[canon])
        arrays[canon] = _numbers(raw.column(name), _Column(path, name))
    arrays["volume"] = _volume(raw, by_norm, path)
    for canon, aliases in _EXTRAS.items():
        name = _first(by_norm, aliases)
        if name is not None:
            arrays[canon] = _numbers(raw.column(name), _Column(path, name))
    return conform(pa.table(arrays))


def _time_columns(by_norm: dict[str, str]) -> tuple[str, ...]:
    """One datetime column, or MT5's <DATE> + <TIME> pair; a lone date or time comes last."""
    single = _first(by_norm, _TIME_SINGLE)
    if single is not None:
        return (single,)
    if "date" in by_norm and "time" in by_norm:
        return (by_norm["date"], by_norm["time"])
    fallback = _first(by_norm, ("time", "date"))
    return (fallback,) if fallback is not None else ()


def _numbers(column: pa.ChunkedArray, where: _Column) -> pa.ChunkedArray | pa.Array:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return column.cast(pa.float64())
    if pa.types.is_null(kind) or pa.types.is_boolean(kind):
        return column.cast(pa.float64())
    text = column.to_pandas().astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = (values.isna() & text.notna() & (text != "")).to_numpy(dtype=bool)
    if bad.any():
        raise where.error(text, int(np.argmax(bad)), "expected a number; fix or delete that row")
    return pa.array(values.to_numpy(dtype=np.float64, na_value=np.nan), pa.float64())


def _volume(raw: pa.Table, by_norm: dict[str, str], path: Path) -> pa.ChunkedArray | pa.Array:
    """Real volume when it has any non-zero value, else tick volume (MT5 FX: <VOL> is all 0)."""
    real, tick = _first(by_norm, _REAL_VOLUME), _first(by_norm, _TICK_VOLUME)
    if real is not None:
        values = _numbers(raw.column(real), _Column(path, real))
        if tick is None or bool(pc.any(pc.not_equal(values, 0.0)).as_py()):
            return values
    if tick is not None:
        return _numbers(raw.column(tick), _Column(path, tick))
    return pa.array(np.zeros(raw.num_rows), pa.float64())


def _time_ms(raw: pa.Table, cols: tuple[str, ...], path: Path, tz: str) -> np.ndarray:
    if len(cols) == 2:
        date = _as_text(raw.column(cols[0]), width=8)
        clock = _as_text(raw.column(cols[1]), width=6)
        series = (date.str.strip() + " " + clock.str.strip()).str.strip()
        series = series.rename(f"{cols[0]} + {cols[1]}")
    else:
        series = raw.column(cols[0]).to_pandas(date_as_object=False).rename(cols[0])
    return times_to_ms(series, tz, path)


def time_column(columns: Iterable[Hashable]) -> Hashable | None:
    """The column holding the times, by the names bar files use (compared like the importer
    does: '<DATE>' → 'date', 'Open Time' → 'open_time'), the most specific name first:
    timestamp_ms, timestamp, datetime, open_time, ..., then time, then date."""
    by_norm: dict[str, Hashable] = {}
    for name in columns:
        by_norm.setdefault(_norm(str(name)), name)
    return next((by_norm[n] for n in _TIME_ORDER if n in by_norm), None)


def _as_text(column: pa.ChunkedArray, width: int) -> pd.Series:
    """Date or clock column as text; whole numbers are zero-padded (90500 → '090500')."""
    if pa.types.is_integer(column.type):
        return column.to_pandas().astype("string").str.zfill(width)
    return column.cast(pa.string()).to_pandas().astype("string").fillna("")


def times_to_ms(series: pd.Series, tz: str = "UTC", origin: Path | str = "times") -> np.ndarray:
    """Times written any way a bar file writes them → UTC epoch ms: datetimes; ISO-8601 or
    day-first dotted text; epoch s/ms/µs/ns (one unit per column, told by magnitude); YYYYMMDD
    numbers. Naive times are wall clock in `tz`. A blank, unreadable or odd-unit time is a
    DataError naming `origin`, the series' name and the data row."""
    _check_tz(tz)
    where = _Column(origin, str(series.name))
    series = series.reset_index(drop=True)
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
        return _index_to_ms(pd.DatetimeIndex(series), series, tz, where)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return _numbers_to_ms(series.to_numpy(), series, tz, where)
    text = series.astype("string").str.strip()
    present = text.notna() & (text != "")
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().any() and int(numeric.notna().sum()) == int(present.sum()):
        return _numbers_to_ms(numeric.to_numpy(dtype=np.float64, na_value=np.nan), text, tz, where)
    return _text_to_ms(text, tz, where)


def _numbers_to_ms(values: np.ndarray, shown: pd.Series, tz: str, where: _Column) -> np.ndarray:
    """Epoch numbers (always UTC) by magnitude, or YYYYMMDD dates (wall clock in `tz`)."""
    if values.size == 0:
        return np.empty(0, dtype=np.int64)
    if values.dtype.kind == "f":
        missing = ~np.isfinite(values)
        if missing.any():
            raise where.error(shown, int(np.argmax(missing)), "every bar needs its open time")
        if bool(np.all(values == np.round(values))):
            values = values.astype(np.int64)
    low, high = _YYYYMMDD
    if values.dtype.kind in "iu" and low <= values.min() and values.max() <= high:
        return _text_to_ms(pd.Series(values.astype(str), dtype="string"), tz, where)
    bands = np.searchsorted(_EPOCH_BOUNDS, np.abs(values), side="right")
    band = int(np.bincount(bands).argmax())
    unit, multiply, divide = _EPOCH_UNITS[band]
    odd = bands != band
    if odd.any():
        why = f"the column holds epoch {unit} but this is not; are units mixed?"
        raise where.error(shown, int(np.argmax(odd)), why)
    if values.dtype.kind == "f":
        return np.round(values * multiply / divide).astype(np.int64)
    return values.astype(np.int64) * multiply // divide


def _text_to_ms(text: pd.Series, tz: str, where: _Column) -> np.ndarray:
    """Pick the format that reads most of the first rows, then hold every row to it."""
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if empty.any():
        raise where.error(text, int(np.argmax(empty)), "every bar needs its open time")
    if text.empty:
        return np.empty(0, dtype=np.int64)
    sample = text.iloc[:_SAMPLE]
    aware = bool(sample.str.contains(_OFFSET).any())
    scores = {fmt: int(_parse(sample, fmt, aware).notna().sum()) for fmt in _TEXT_FORMATS}
    fmt = max(scores, key=scores.__getitem__)
    if scores[fmt] == 0:
        why = "not a time barlake can read; use ISO-8601 (2024-01-02 13:05:00) or epoch s/ms"
        raise where.error(text, 0, why)
    parsed = _parse(text, fmt, aware)
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        why = f"it does not read as {fmt} like the rows before it; fix that row"
        raise where.error(text, int(np.argmax(bad)), why)
    return _index_to_ms(pd.DatetimeIndex(parsed), text, tz, where)


def _parse(text: pd.Series, fmt: str, aware: bool) -> pd.Series:
    try:
        return pd.to_datetime(text, format=fmt, errors="coerce", utc=aware)
    except ValueError:  # offsets on some rows only: read them all as instants
        return pd.to_datetime(text, format=fmt, errors="coerce", utc=True)


def _index_to_ms(index: pd.DatetimeIndex, shown: pd.Series, tz: str, where: _Column) -> np.ndarray:
    missing = index.isna()
    if missing.any():
        raise where.error(shown, int(np.argmax(missing)), "every bar needs its open time")
    if index.tz is None:
        index = _localize(index, shown, tz, where)
    return index.tz_convert("UTC").as_unit("ms").asi8.copy()


def _localize(
    naive: pd.DatetimeIndex, shown: pd.Series, tz: str, where: _Column
) -> pd.DatetimeIndex:
    """Wall clock → instant; the repeated autumn hour is resolved from the order of the rows."""
    try:
        return naive.tz_localize(tz, ambiguous="infer", nonexistent="raise")
    except ValueError:
        probe = naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        i = int(np.argmax(probe.isna()))
        why = (
            f"that wall-clock time is skipped or repeated in {tz} by a DST change; "
            "check tz, or export the file in UTC and import it with tz=UTC"
        )
        raise where.error(shown, i, why) from None
