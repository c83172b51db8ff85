"""The offline demo: import the bundled sample into a lake and derive 5m/1h/4h from it.

It needs no network, so a new user sees the lake work end to end on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from barlake.bars.derive import DeriveResult, derive_all
from barlake.lake.store import Lake, WriteResult
from barlake.transfer import import_file

SOURCE = "sample"
INSTRUMENT = "BTCUSDT"
TIMEFRAMES = ("5m", "1h", "4h")
SAMPLE_FILE = "sample_BTCUSDT_1m.csv"


@dataclass
class DemoReport:
    lake: Path
    imported: WriteResult
    derived: list[DeriveResult]


def sample_path() -> Path:
    return Path(str(resources.files("barlake") / "samples" / SAMPLE_FILE))


def run_demo(lake: Lake) -> DemoReport:
    imported = import_file(lake, sample_path(), SOURCE, INSTRUMENT, "1m")
    derived = derive_all(lake, list(TIMEFRAMES), source=SOURCE, instrument=INSTRUMENT)
    return DemoReport(lake.root, imported, derived)
