"""One error tree. The class tells the caller what happens next: retry, fix input, or a human."""

from __future__ import annotations


class BarlakeError(Exception):
    """Root of every error barlake raises on purpose; the CLI prints it as one line, exit 1."""


class ConfigError(BarlakeError):
    """Bad user input (a name, a date, a timeframe, a config file): fix it and run again."""


class DataError(BarlakeError):
    """Bars that break the schema or OHLC sanity: rejected, never stored; fix the input."""


class LakeError(BarlakeError):
    """Something is wrong on disk in the lake; see the subclass."""


class CorruptFileError(LakeError):
    """A lake file cannot be read or breaks the schema: `barlake verify --repair` quarantines it."""


class LockedError(LakeError):
    """A series lock could not be taken in time: another writer is busy; run again later."""


class SourceError(BarlakeError):
    """A feed failed; see the subclass for whether it is retried."""


class RateLimitedError(SourceError):
    """The venue said slow down (429/418): retried after its Retry-After."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(SourceError):
    """5xx, timeout or dropped connection: temporary, retried with back-off."""


class BadResponseError(SourceError):
    """The venue answered something we cannot use (4xx, bad symbol, garbage): not retried."""
