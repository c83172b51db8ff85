"""The Binance bulk archive (data.binance.vision): monthly/daily kline zips and `.CHECKSUM`s.

    GET /data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-11.zip
    GET /data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-07.zip.CHECKSUM
    GET /data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-11.zip

A zip holds one CSV named like it. Spot CSVs have no header and, for dates from 2025-01-01,
microsecond times (`1735689600000000,…,1735689659999999,…`); futures CSVs start with the
header line and stay in ms. A CHECKSUM is `<sha256 hex><two spaces><zip name>` with no
newline. Daily files appear the day after, monthly files on the first Monday of the next
month (or the day after the month ends, `first_monday=False`); anything else is a 404 with
S3's XML body. HEAD works like GET without the body.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from aiohttp import web

from barlake.emulator.binance_wire import Books, kline_columns
from barlake.emulator.candles import opened_between
from barlake.emulator.decimals import render
from barlake.emulator.market import MarketBook, utc_ms
from barlake.emulator.pipeline import Venue, guard

MICROS_FROM_MS = utc_ms("2025-01-01")
FUTURES_HEADER = (
    b"open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    b"taker_buy_volume,taker_buy_quote_volume,ignore\n"
)
DAILY = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
MONTHLY = (*DAILY, "3d", "1w", "1mo")


@dataclass
class ArchiveRules:
    """Publication rules; tests may flip them while the server runs."""

    first_monday: bool = True


@dataclass(frozen=True)
class FileKey:
    market: str  # "spot" | "futures/um"
    period: str  # "monthly" | "daily"
    symbol: str
    interval: str  # archive spelling: "1mo" for the calendar month
    stamp: str  # "2024-11" or "2024-11-05"

    @property
    def zip_name(self) -> str:
        return f"{self.symbol}-{self.interval}-{self.stamp}.zip"

    def bounds(self) -> tuple[int, int]:
        """[start, end) of the file's period in epoch ms."""
        if self.period == "daily":
            day = date.fromisoformat(self.stamp)
            return utc_ms(day.isoformat()), utc_ms((day + timedelta(days=1)).isoformat())
        year, month = map(int, self.stamp.split("-"))
        nxt = (year + month // 12, month % 12 + 1)
        return utc_ms(f"{year:04d}-{month:02d}-01"), utc_ms(f"{nxt[0]:04d}-{nxt[1]:02d}-01")


def parse_key(market: str, period: str, symbol: str, interval: str, name: str) -> FileKey | None:
    """The file a path names, or None when the name does not follow the grammar."""
    prefix = f"{symbol}-{interval}-"
    if not (name.startswith(prefix) and name.endswith(".zip")):
        return None
    key = FileKey(market, period, symbol, interval, name[len(prefix) : -len(".zip")])
    allowed = DAILY if period == "daily" else MONTHLY
    try:
        key.bounds()
    except ValueError:
        return None
    width = 10 if period == "daily" else 7
    return key if interval in allowed and len(key.stamp) == width else None


def published_at(key: FileKey, rules: ArchiveRules) -> int:
    end = key.bounds()[1]
    if key.period == "daily" or not rules.first_monday:
        return end
    first = datetime.fromtimestamp(end / 1000, UTC)
    return end + ((7 - first.weekday()) % 7) * 86_400_000


class ArchiveFiles:
    """Builds (and caches) the zip of a file key from the same truth as REST."""

    def __init__(self, books: Books, rules: ArchiveRules) -> None:
        self.books = books
        self.rules = rules
        self.zip_bytes = lru_cache(maxsize=24)(self._build)

    def book(self, key: FileKey) -> MarketBook:
        return self.books.spot if key.market == "spot" else self.books.usdm

    def exists(self, key: FileKey) -> bool:
        book = self.book(key)
        if key.symbol not in book:
            return False
        spec = book.get(key.symbol).spec
        lo, hi = key.bounds()
        listed = spec.listing_ms < hi and (spec.delisted_ms is None or spec.delisted_ms > lo)
        return listed and published_at(key, self.rules) <= book.clock()

    def csv_bytes(self, key: FileKey) -> bytes:
        book = self.book(key)
        interval = "1M" if key.interval == "1mo" else key.interval
        lo, hi = key.bounds()
        candles = opened_between(book.get(key.symbol), interval, lo, hi, book.clock())
        spot = key.market == "spot"
        micro = spot and lo >= MICROS_FROM_MS
        rows = render(kline_columns(candles, interval, quoted=False, micro=micro))
        return rows if spot else FUTURES_HEADER + rows

    def checksum(self, key: FileKey, wrong: bool) -> bytes:
        data = self.zip_bytes(key) + (b"tampered" if wrong else b"")
        return f"{hashlib.sha256(data).hexdigest()}  {key.zip_name}".encode()

    def _build(self, key: FileKey) -> bytes:
        lo = datetime.fromtimestamp(key.bounds()[0] / 1000, UTC)
        info = zipfile.ZipInfo(key.zip_name[:-4] + ".csv", date_time=lo.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(info, self.csv_bytes(key), compresslevel=1)
        return buffer.getvalue()


FILES = web.AppKey("files", ArchiveFiles)
VENUE = web.AppKey("venue", Venue)


def not_found(path: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
        f"<Message>The specified key does not exist.</Message><Key>{path.lstrip('/')}</Key></Error>"
    )
    return web.Response(status=404, text=body, content_type="application/xml")


async def kline_file(request: web.Request) -> web.Response:
    files, info = request.app[FILES], request.match_info
    market = "spot" if request.path.startswith("/data/spot/") else "futures/um"
    name = info["name"]
    wants_checksum = name.endswith(".CHECKSUM")
    key = parse_key(
        market, info["period"], info["symbol"], info["interval"], name.removesuffix(".CHECKSUM")
    )
    if key is None or not files.exists(key):
        return not_found(request.path)
    if wants_checksum:
        wrong = request.app[VENUE].faults.wrong_checksum
        return web.Response(body=files.checksum(key, wrong), content_type="text/plain")
    return web.Response(body=files.zip_bytes(key), content_type="application/zip")


async def missing(request: web.Request) -> web.Response:
    return not_found(request.path)


def build(books: Books, venue: Venue, rules: ArchiveRules) -> web.Application:
    app = web.Application(middlewares=[guard(venue)])
    app[FILES] = ArchiveFiles(books, rules)
    app[VENUE] = venue
    tail = "{period:monthly|daily}/klines/{symbol}/{interval}/{name}"
    app.router.add_get(f"/data/spot/{tail}", kline_file)
    app.router.add_get(f"/data/futures/um/{tail}", kline_file)
    app.router.add_get("/{tail:.*}", missing)
    return app
