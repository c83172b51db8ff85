"""The emulated data.binance.vision: zips equal the truth, µs from 2025, checksums, 404s."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta

import numpy as np

from barlake.emulator import Emulator, utc_ms

MINUTE = 60_000
SPOT = "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-11.zip"


def csv_lines(zip_bytes: bytes, name: str) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        assert archive.namelist() == [name]
        return archive.read(name).decode().splitlines()


def columns(lines: list[str]) -> list[np.ndarray]:
    table = np.array([line.split(",") for line in lines])
    return [table[:, i] for i in range(table.shape[1])]


def test_a_past_month_zip_holds_a_headerless_csv_equal_to_the_ground_truth(emulator, http):
    reply = http(emulator.archive_url + SPOT)
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/zip"
    lines = csv_lines(reply.body, "BTCUSDT-1m-2024-11.csv")
    truth = emulator.bars("BTCUSDT", utc_ms("2024-11-01"), utc_ms("2024-12-01"))
    assert len(lines) == len(truth) == 30 * 1440
    assert lines[0].startswith(f"{utc_ms('2024-11-01')},")
    cols = columns(lines)
    assert len(cols) == 12 and cols[1][0].count(".") == 1 and len(cols[1][0].split(".")[1]) == 8
    assert cols[0].astype(np.int64).tolist() == truth.column("timestamp_ms").to_pylist()
    assert (cols[6].astype(np.int64) - cols[0].astype(np.int64) == MINUTE - 1).all()
    for i, name in enumerate(["open", "high", "low", "close", "volume"], start=1):
        assert cols[i].astype(float).tolist() == truth.column(name).to_pylist(), name
    assert set(cols[11]) == {"0"}


def test_spot_files_from_2025_use_microseconds_and_the_same_prices(emulator, http):
    name = "BTCUSDT-1m-2025-01-07"
    reply = http(f"{emulator.archive_url}/data/spot/daily/klines/BTCUSDT/1m/{name}.zip")
    cols = columns(csv_lines(reply.body, f"{name}.csv"))
    start = utc_ms("2025-01-07")
    assert cols[0][0] == str(start * 1000) and cols[6][0] == str((start + MINUTE) * 1000 - 1)
    assert cols[6][0].endswith("999999") and len(cols[0][0]) == 16
    truth = emulator.bars("BTCUSDT", start, start + 86_400_000)
    assert (cols[0].astype(np.int64) // 1000).tolist() == truth.column("timestamp_ms").to_pylist()
    assert cols[4].astype(float).tolist() == truth.column("close").to_pylist()


def test_the_checksum_is_sha256sum_text_and_the_wrong_checksum_knob_breaks_it(emulator, http):
    zip_bytes = http(emulator.archive_url + SPOT).body
    text = http(emulator.archive_url + SPOT + ".CHECKSUM").body.decode()
    assert text == f"{hashlib.sha256(zip_bytes).hexdigest()}  BTCUSDT-1m-2024-11.zip"
    assert not text.endswith("\n")
    emulator.archive.faults.add("checksum")
    wrong = http(emulator.archive_url + SPOT + ".CHECKSUM").body.decode()
    assert wrong.split("  ")[0] != hashlib.sha256(zip_bytes).hexdigest()
    assert http(emulator.archive_url + SPOT).body == zip_bytes  # the zip itself is unchanged


def test_the_current_month_and_today_are_not_published_but_yesterday_is(emulator, http):
    today = datetime.fromtimestamp(emulator.clock() / 1000, UTC).date()
    base = f"{emulator.archive_url}/data/spot"
    month = f"{base}/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-{today:%Y-%m}.zip"
    daily = f"{base}/daily/klines/BTCUSDT/1m/BTCUSDT-1m-{{}}.zip"
    missing = http(month)
    assert missing.status == 404 and b"<Code>NoSuchKey</Code>" in missing.body
    assert http(daily.format(today.isoformat())).status == 404
    assert http(daily.format((today - timedelta(days=1)).isoformat())).status == 200


def test_a_monthly_file_appears_on_the_first_monday_of_the_next_month(http):
    path = "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-01.zip"
    with Emulator(clock=lambda: utc_ms("2025-02-02T23:59")) as sunday:
        assert http(sunday.archive_url + path).status == 404
    with Emulator(clock=lambda: utc_ms("2025-02-03T00:00")) as monday:
        assert http(monday.archive_url + path).status == 200


def test_unknown_symbols_bad_names_and_months_before_listing_are_404(emulator, http):
    base = f"{emulator.archive_url}/data/spot/monthly/klines"
    for path in (
        "/NOPEUSDT/1m/NOPEUSDT-1m-2024-11.zip",
        "/BTCUSDT/1m/BTCUSDT-1h-2024-11.zip",
        "/BTCUSDT/1m/BTCUSDT-1m-2024-13.zip",
        "/BTCUSDT/1s/BTCUSDT-1s-2024-11.zip",
        "/ETHUSDT/1m/ETHUSDT-1m-2024-02.zip",
    ):
        assert http(base + path).status == 404, path
    assert http(f"{emulator.archive_url}/data/spot/monthly/aggTrades/x.zip").status == 404


def test_futures_csvs_start_with_a_header_and_keep_milliseconds(emulator, http):
    name = "BTCUSDT-1h-2025-02"
    url = f"{emulator.archive_url}/data/futures/um/monthly/klines/BTCUSDT/1h/{name}.zip"
    lines = csv_lines(http(url).body, f"{name}.csv")
    assert lines[0].startswith("open_time,open,high,low,close,volume,close_time,")
    assert lines[1].split(",")[0] == str(utc_ms("2025-02-01"))
    assert len(lines) == 1 + 28 * 24


def test_head_answers_like_get_without_a_body(emulator, http):
    reply = http(emulator.archive_url + SPOT, method="HEAD")
    assert reply.status == 200 and reply.body == b""
    assert reply.headers["Content-Type"] == "application/zip"
    assert int(reply.headers["Content-Length"]) == len(http(emulator.archive_url + SPOT).body)


def test_archive_and_rest_serve_the_same_hourly_candles(emulator, http):
    name = "ETHUSDT-1h-2024-11"
    url = f"{emulator.archive_url}/data/spot/monthly/klines/ETHUSDT/1h/{name}.zip"
    lines = csv_lines(http(url).body, f"{name}.csv")
    start = utc_ms("2024-11-01")
    rest = http(
        f"{emulator.base_url}/api/v3/klines?symbol=ETHUSDT&interval=1h&startTime={start}&limit=1000"
    ).json()
    as_csv = [",".join(str(v) for v in row) for row in rest[: len(lines)]]
    assert len(lines) == 720 and as_csv == lines
