"""The offline demo: the whole pipeline with no network.

1. import the bundled 3-day BTCUSDT sample (source `sample`) and derive 5m/1h/4h;
2. start the loopback emulator in-process, write an instruments file pointing at it and
   sync a few days of 1m for Binance spot (bulk archive + REST), Binance USD-M, a
   Hyperliquid perp and two Dukascopy CFDs (EURUSD, US500), deriving 5m/1h/4h — the same
   code path as a real `barlake sync`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from barlake.bars.derive import DeriveResult, derive_all
from barlake.dates import now_ms
from barlake.emulator import Emulator
from barlake.instruments import Instrument, load_instruments, write_instruments
from barlake.lake.store import Lake, WriteResult
from barlake.sources.registry import FeedFactory
from barlake.sync import InstrumentPlan, InstrumentResult, Progress, SyncOptions, Window, sync
from barlake.sync.session import plan_all
from barlake.timeframes import DAY_MS
from barlake.transfer import import_file

SOURCE = "sample"
INSTRUMENT = "BTCUSDT"
TIMEFRAMES = ("5m", "1h", "4h")
SAMPLE_FILE = "sample_BTCUSDT_1m.csv"
SYNC_DAYS = 3


@dataclass
class DemoReport:
    lake: Path
    imported: WriteResult
    derived: list[DeriveResult]
    instruments_file: Path | None = None
    plans: list[InstrumentPlan] | None = None
    synced: list[InstrumentResult] | None = None


def sample_path() -> Path:
    return Path(str(resources.files("barlake") / "samples" / SAMPLE_FILE))


def run_demo(
    lake: Lake, progress: Progress | None = None, *, sync_days: int = SYNC_DAYS
) -> DemoReport:
    imported = import_file(lake, sample_path(), SOURCE, INSTRUMENT, "1m")
    derived = derive_all(lake, list(TIMEFRAMES), source=SOURCE, instrument=INSTRUMENT)
    report = DemoReport(lake.root, imported, derived)
    if sync_days <= 0:
        return report
    with Emulator() as emu:
        path = lake.root / "demo" / "instruments.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = demo_instruments(emu, now_ms() - sync_days * DAY_MS)
        write_instruments(path, rows, merge=False)  # the emulator's ports change between runs
        items = load_instruments(path).instruments
        factory = FeedFactory()
        report.instruments_file = path
        report.plans = plan_all(lake, items, Window(None, None), factory)
        options = SyncOptions(derive=TIMEFRAMES, factory=factory)
        report.synced = sync(lake, items, options, progress)
    return report


def demo_instruments(emu: Emulator, start_ms: int) -> list[Instrument]:
    """Binance spot (archive + REST), Binance USD-M, a Hyperliquid perp and Dukascopy EURUSD
    (JSON API) and US500 (bi5 datafeed, mid prices), all on the emulator."""
    start = start_ms - start_ms % DAY_MS
    binance = {"base_url": emu.base_url, "archive_url": emu.archive_url, "start_ms": start}
    return [
        Instrument("BTCUSDT", "ccxt", "BTC/USDT", "binance", **binance),
        Instrument("ETHUSDT", "ccxt", "ETH/USDT", "binance", **binance),
        Instrument("BTCUSDT", "ccxt", "BTC/USDT:USDT", "binance", market="swap", **binance),
        Instrument(
            "BTC", "ccxt", "BTC/USDC:USDC", "hyperliquid", market="swap",
            base_url=emu.hyperliquid_url, start_ms=start,
        ),
        Instrument("EURUSD", "dukascopy", "EURUSD", base_url=emu.dukascopy_url, start_ms=start),
        Instrument(
            "US500.cash", "dukascopy", "USA500IDXUSD", side="mid", transport="bi5",
            base_url=emu.dukascopy_url, start_ms=start,
        ),
    ]  # fmt: skip
