"""instruments.csv → validated, typed Instrument records (and back, for `barlake universe --out`).

cells.py    one row checked cell by cell, every problem with its fix
record.py   Instrument, InstrumentSet, filter_instruments
csvfile.py  load_instruments (every bad row at once, with line numbers), write_instruments
"""

from barlake.instruments.cells import COLUMNS, REQUIRED
from barlake.instruments.csvfile import MergeResult, load_instruments, write_instruments
from barlake.instruments.record import Instrument, InstrumentSet, filter_instruments

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "Instrument",
    "InstrumentSet",
    "MergeResult",
    "filter_instruments",
    "load_instruments",
    "write_instruments",
]
