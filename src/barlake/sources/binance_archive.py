"""Binance's bulk archive (data.binance.vision): whole months and days of 1m klines as zips.

    data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-11.zip           (+ .CHECKSUM)
    data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-07.zip

One CSV per zip, REST column order. Spot files have no header, futures files (since ~2022)
start with one, so the first line is sniffed. Spot files dated 2025 on carry microsecond
times: any open time of 16 digits is divided by 1000. The CHECKSUM file is
`<sha256 hex>  <zip name>`; a mismatch is downloaded once more, then refused. A 404 means
"not published" (daily files appear the next day, monthly ones on the first Monday of the
next month) and is returned as None so the caller falls back to daily files, then REST.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from barlake.bars.schema import CORE_COLUMNS, CORE_SCHEMA
from barlake.errors import BadResponseError
from barlake.sources.http import HttpClient
from barlake.sources.retry import Attempts

DEFAULT_ROOT = "https://data.binance.vision"
MARKET_PATHS = {"spot": "spot", "usdm": "futures/um"}
MICROS = 10**15  # open times at or above this are microseconds (16 digits)


class ChecksumError(BadResponseError):
    """A zip did not match its CHECKSUM twice: refused; the range comes from REST instead."""


class BinanceArchive:
    """The 1m kline files of one symbol in one market ("spot" or "usdm")."""

    def __init__(
        self, root: str | None, market: str, symbol: str, client: HttpClient, attempts: Attempts
    ) -> None:
        self.root = (root or DEFAULT_ROOT).rstrip("/")
        self.folder = MARKET_PATHS[market]
        self.symbol = symbol
        self.client = client
        self.attempts = attempts
        self.requests = 0

    def month(self, year: int, month: int) -> pa.Table | None:
        return self._file("monthly", f"{year:04d}-{month:02d}")

    def day(self, day: date) -> pa.Table | None:
        return self._file("daily", day.isoformat())

    def url(self, period: str, stamp: str) -> str:
        name = f"{self.symbol}-1m-{stamp}.zip"
        return f"{self.root}/data/{self.folder}/{period}/klines/{self.symbol}/1m/{name}"

    def _file(self, period: str, stamp: str) -> pa.Table | None:
        url = self.url(period, stamp)
        for attempt in range(2):
            body = self._get(url)
            if body is None:
                return None
            digest = self._get(url + ".CHECKSUM")
            if digest is None:
                raise ChecksumError(f"{url}: no CHECKSUM file next to it; not trusted")
            if _sha256_matches(body, digest):
                return parse_zip(body, url)
            if attempt == 1:
                raise ChecksumError(f"{url}: sha256 differs from its CHECKSUM twice; not trusted")
        return None

    def _get(self, url: str) -> bytes | None:
        def once() -> bytes | None:
            self.requests += 1
            return self.client.get(url)

        return self.attempts.call(once)


def _sha256_matches(body: bytes, checksum: bytes) -> bool:
    expected = checksum.decode("ascii", "replace").split()[:1]
    return bool(expected) and hashlib.sha256(body).hexdigest() == expected[0].lower()


def parse_zip(body: bytes, name: str = "zip") -> pa.Table:
    """The kline CSV inside an archive zip → the lake's core schema (ms open times)."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = [m for m in archive.namelist() if m.endswith(".csv")]
            if len(members) != 1:
                raise BadResponseError(f"{name}: expected one CSV inside, found {members}")
            text = archive.read(members[0])
    except zipfile.BadZipFile as error:
        raise BadResponseError(
            f"{name}: not a valid zip ({error}) although its checksum matched"
        ) from error
    return parse_csv(text, name)


def parse_csv(text: bytes, name: str = "csv") -> pa.Table:
    """Header sniffed (first field not a number → header), µs normalised per value."""
    if not text.strip():
        return CORE_SCHEMA.empty_table()
    has_header = not text.lstrip()[:1].isdigit()
    names = [f"c{i}" for i in range(12)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(has_header)),
            convert_options=pacsv.ConvertOptions(
                include_columns=names[:6],
                column_types={"c0": pa.int64(), **{f"c{i}": pa.float64() for i in range(1, 6)}},
            ),
        )
    except (pa.ArrowInvalid, ValueError) as error:
        raise BadResponseError(f"{name}: unreadable kline CSV ({error})") from error
    ts = table.column("c0").to_numpy()
    ts = np.where(ts >= MICROS, ts // 1000, ts)
    columns = [pa.array(ts, pa.int64())] + [table.column(f"c{i}") for i in range(1, 6)]
    return pa.Table.from_arrays(columns, names=list(CORE_COLUMNS)).cast(CORE_SCHEMA)
