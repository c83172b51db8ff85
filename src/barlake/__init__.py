"""barlake: a local market-data lake for traders — 1m bars as truth, everything else derived."""

from barlake.bars.resample import resample
from barlake.errors import (
    BadResponseError,
    BarlakeError,
    ConfigError,
    CorruptFileError,
    DataError,
    LakeError,
    LockedError,
    RateLimitedError,
    SourceError,
    UnavailableError,
)
from barlake.lake import Lake, SeriesKey, WriteResult
from barlake.lake.store import read, read_arrow

__version__ = "0.1.0"

__all__ = [
    "BadResponseError",
    "BarlakeError",
    "ConfigError",
    "CorruptFileError",
    "DataError",
    "Lake",
    "LakeError",
    "LockedError",
    "RateLimitedError",
    "SeriesKey",
    "SourceError",
    "UnavailableError",
    "WriteResult",
    "__version__",
    "read",
    "read_arrow",
    "resample",
]
