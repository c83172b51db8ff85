"""The pieces under the sync: budget, archive parsing, day/month split, URLs, credentials."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile

import pytest

from barlake.emulator import utc_ms
from barlake.errors import BadResponseError, RateLimitedError, UnavailableError
from barlake.sources.binance import split
from barlake.sources.binance_archive import _sha256_matches, parse_csv, parse_zip
from barlake.sources.budget import Budget
from barlake.sources.credentials import credentials, read_dotenv
from barlake.sources.exchanges import open_exchange, rebase
from barlake.sources.http import status_error
from barlake.sources.retry import Attempts, GaveUpError, RetryPolicy

DAY = 86_400_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_spends_up_to_its_headroom_then_waits_for_the_window_to_slide():
    budget = Budget(100, window_s=1.0, headroom=0.9)
    for _ in range(45):
        assert budget.acquire(2) == 0.0 or budget.used() <= 90
    waited = budget.acquire(2)
    assert waited > 0.9  # the 46th request had to wait for the first ones to age out


def test_budget_adopts_the_venues_count_and_pauses_everyone_on_retry_after():
    clock = FakeClock()
    budget = Budget(100, window_s=60, clock=clock)
    budget.observe(80)  # someone else on this IP spent 80
    assert budget.used() == 80
    budget.observe(10)  # a lower count never lowers ours
    assert budget.used() == 80
    budget.pause(5)
    done = threading.Event()
    threading.Thread(target=lambda: (budget.acquire(1), done.set()), daemon=True).start()
    assert not done.wait(0.1)  # paused
    clock.now = 5.1
    with budget._cond:
        budget._cond.notify_all()
    assert done.wait(2)


def test_attempts_retry_temporary_errors_and_give_up_after_the_streak():
    slept: list[float] = []
    attempts = Attempts(RetryPolicy(fail_streak=3, base_s=1, sleep=slept.append), "X")
    calls = iter([UnavailableError("503"), RateLimitedError("429", 7), 42])

    def request() -> int:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    assert attempts.call(request) == 42
    assert slept[0] <= 1 and slept[1] == 7
    failing = Attempts(RetryPolicy(fail_streak=2, base_s=0, sleep=slept.append), "Y")
    with pytest.raises(GaveUpError, match="Y: gave up after 2 failures"):
        failing.call(lambda: (_ for _ in ()).throw(UnavailableError("down")))
    with pytest.raises(BadResponseError):  # never retried
        failing.call(lambda: (_ for _ in ()).throw(BadResponseError("-1121")))


def test_http_statuses_map_onto_retry_classes():
    assert isinstance(status_error("u", 429, "3"), RateLimitedError)
    assert status_error("u", 418, "120").retry_after == 120
    assert isinstance(status_error("u", 503, None), UnavailableError)
    assert isinstance(status_error("u", 403, None), UnavailableError)
    assert isinstance(status_error("u", 400, None), BadResponseError)


def test_archive_csv_header_is_sniffed_and_microseconds_are_normalised():
    spot_2025 = b"1735689600000000,1.5,2.5,1.0,2.0,10.0,1735689659999999,0,1,0,0,0\n"
    futures = (
        b"open_time,open,high,low,close,volume,close_time,quote_volume,count,"
        b"taker_buy_volume,taker_buy_quote_volume,ignore\n"
        b"1704067200000,1.5,2.5,1.0,2.0,10.0,1704067259999,0,1,0,0,0\n"
    )
    assert parse_csv(spot_2025).column("timestamp_ms").to_pylist() == [1735689600000]
    row = parse_csv(futures).to_pylist()[0]
    assert row == {"timestamp_ms": 1704067200000, "open": 1.5, "high": 2.5, "low": 1.0,
                   "close": 2.0, "volume": 10.0}  # fmt: skip


def test_a_broken_zip_is_refused_and_a_checksum_must_match():
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as archive:
        archive.writestr("X-1m-2024-01.csv", "1704067200000,1,1,1,1,1,1704067259999,0,1,0,0,0\n")
    data = body.getvalue()
    assert parse_zip(data).num_rows == 1
    with pytest.raises(BadResponseError, match="not a valid zip"):
        parse_zip(data[: len(data) // 2])
    digest = hashlib.sha256(data).hexdigest()
    assert _sha256_matches(data, f"{digest}  X-1m-2024-01.zip".encode())
    assert not _sha256_matches(data, f"{'0' * 64}  X-1m-2024-01.zip".encode())


def test_split_sends_whole_months_and_days_to_the_archive_and_partial_days_to_rest():
    today = utc_ms("2025-03-20")
    pieces = split(utc_ms("2025-01-15T12:00"), utc_ms("2025-03-20T09:00"), today)
    kinds = [(kind, hi - lo) for kind, lo, hi in pieces]
    assert kinds[0] == ("rest", 12 * 3_600_000)
    assert [k for k, _ in kinds].count("day") == 16 + 19  # January 16-31, March 1-19
    assert ("month", 28 * DAY) in kinds  # February is whole
    assert pieces[-1] == ("rest", today, utc_ms("2025-03-20T09:00"))
    assert split(utc_ms("2025-03-20T01:00"), utc_ms("2025-03-20T02:00"), today) == [
        ("rest", utc_ms("2025-03-20T01:00"), utc_ms("2025-03-20T02:00"))
    ]


def test_base_url_moves_every_endpoint_and_keeps_their_paths():
    urls = {"public": "https://api.binance.com/api/v3", "fapi": "https://fapi.binance.com/fapi/v1",
            "hl": "https://api.{hostname}", "n": 5}  # fmt: skip
    moved = rebase(urls, "http://127.0.0.1:9000/", "hyperliquid.xyz")
    assert moved == {"public": "http://127.0.0.1:9000/api/v3", "fapi": "http://127.0.0.1:9000/fapi/v1",
                     "hl": "http://127.0.0.1:9000", "n": 5}  # fmt: skip
    exchange = open_exchange(
        "binance", market="swap", symbol="BTC/USDT:USDT", base_url="http://h:1"
    )
    assert exchange.options["fetchMarkets"]["types"] == ["linear"]
    assert exchange.urls["api"]["fapiPublic"] == "http://h:1/fapi/v1"


def test_keys_come_from_the_environment_before_a_dotenv_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# keys\nexport BARLAKE_OKX_API_KEY='from-file'\nBARLAKE_OKX_SECRET=\"s3\"\nnoise\n"
    )
    assert read_dotenv(env_file)["BARLAKE_OKX_SECRET"] == "s3"
    found = credentials("okx", env={"BARLAKE_OKX_API_KEY": "from-env"}, dotenv=env_file)
    assert found == {"apiKey": "from-env", "secret": "s3"}
    assert credentials("binance", env={}, dotenv=tmp_path / "missing") == {}
