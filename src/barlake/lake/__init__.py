"""The lake on disk: layout, atomic month files, locks, coverage.

Never imports sources/ or stream/: the lake does not talk to the network.
"""

from barlake.lake.layout import SeriesKey
from barlake.lake.store import Lake, WriteResult, resolve_lake

__all__ = ["Lake", "SeriesKey", "WriteResult", "resolve_lake"]
