"""Lake sink: closed 1m bars merged into the lake, as `barlake sync` would have stored them.

Series: ``<lake>/ohlcv/<source>/<instrument>/1m`` with the source named like sync names it
(the ccxt exchange id, plus ``_<market>`` unless spot: ``binance``, ``binance_swap``,
``hyperliquid_swap``) and the instrument the user's name for the symbol (the `instruments`
mapping; else the venue-style name `lake_instrument` makes: ``BTC/USDT`` and
``BTC/USDT:USDT`` → ``BTCUSDT``). Each flush is one `Lake.write` per symbol: an atomic month
merge under the series lock, with coverage recorded only for the minutes the stream delivered
a bar for — a minute the stream missed stays "missing", so the next sync fetches it. On close
the usual derived timeframes (5m/1h/4h, as sync) are brought up to date for the instruments
written; derive only rebuilds the months that changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

import pyarrow as pa

from barlake.bars.derive import BASE, DeriveResult, derive
from barlake.errors import ConfigError
from barlake.lake import intervals as iv
from barlake.lake.layout import check_name
from barlake.lake.store import Lake
from barlake.stream.model import Bar
from barlake.stream.sinks.buffer import BufferedSink
from barlake.stream.sinks.rows import Record
from barlake.timeframes import MINUTE_MS, canonical, parse_timeframe

log = logging.getLogger(__name__)

DERIVE = ("5m", "1h", "4h")
_SYMBOL_RE = re.compile(r"^([^/]+)/([^:]+)(?::[^-]+(?:-(.+))?)?$")


def lake_instrument(symbol: str) -> str:
    """A ccxt symbol → the lake name sync gives a market without a venue id at hand: base +
    quote (``BTC/USDT:USDT`` → ``BTCUSDT``), a dated future's expiry after ``_``."""
    match = _SYMBOL_RE.match(symbol)
    if match is None:
        return check_name("instrument", re.sub(r"[^A-Za-z0-9._-]", "", symbol))
    base, quote, expiry = (re.sub(r"[^A-Za-z0-9]", "", part or "") for part in match.groups())
    return check_name("instrument", base + quote + (f"_{expiry}" if expiry else ""))


class LakeSink(BufferedSink):
    """Bars into `lake` under `source`; `instruments` maps a ccxt symbol to its lake name."""

    def __init__(
        self,
        lake: Lake,
        source: str,
        *,
        instruments: Mapping[str, str] | None = None,
        derive_timeframes: Sequence[str] = DERIVE,
        flush_every: int = 1,
    ) -> None:
        super().__init__(flush_every)
        self.lake, self.source = lake, check_name("source", source)
        self.instruments = {s: check_name("instrument", n) for s, n in (instruments or {}).items()}
        for timeframe in derive_timeframes:
            if parse_timeframe(timeframe) <= MINUTE_MS:
                raise ConfigError(f"cannot derive {timeframe} from 1m; pick 5m, 1h, 4h, ...")
        self.derive_timeframes = tuple(canonical(tf) for tf in derive_timeframes)
        self.written: set[str] = set()
        _check_root(lake)

    def instrument(self, symbol: str) -> str:
        return self.instruments.get(symbol) or lake_instrument(symbol)

    def _write(self, batches: dict[str, list[Record]]) -> None:
        if set(batches) - {"ohlcv"}:
            raise ConfigError(
                "the lake stores bars only; write trades and snapshots with --format "
                "sqlite, csv, parquet or feather"
            )
        by_symbol: dict[str, list[Bar]] = {}
        for bar in batches["ohlcv"]:
            if not isinstance(bar, Bar) or bar.timeframe != BASE:
                raise ConfigError(
                    f"the lake takes 1m bars from a stream, not {getattr(bar, 'timeframe', '?')}; "
                    "stream --timeframe 1m (5m/1h/4h are derived from it)"
                )
            by_symbol.setdefault(bar.symbol, []).append(bar)
        for symbol, bars in by_symbol.items():
            self._write_symbol(symbol, bars)

    def _write_symbol(self, symbol: str, bars: list[Bar]) -> None:
        """Merge one symbol's bars; their minutes (and only those) become answered coverage."""
        instrument = self.instrument(symbol)
        table = pa.table(
            {
                "timestamp_ms": pa.array([b.timestamp_ms for b in bars], pa.int64()),
                **{n: pa.array([getattr(b, n) for b in bars], pa.float64()) for n in _OHLCV},
            }
        )
        covered = iv.normalize((b.timestamp_ms, b.timestamp_ms + MINUTE_MS) for b in bars)
        result = self.lake.write(self.source, instrument, BASE, table, covered=covered)
        if result.rejected_total:
            log.warning("%s: %s bar(s) refused: %s", symbol, result.rejected_total, result.rejected)
        self.written.add(instrument)

    def derive_now(self) -> list[DeriveResult]:
        """Bring the derived timeframes of every instrument written so far up to date."""
        return [
            derive(self.lake, self.source, instrument, timeframe)
            for instrument in sorted(self.written)
            for timeframe in self.derive_timeframes
        ]

    def _finish(self) -> None:
        self.derive_now()


_OHLCV = ("open", "high", "low", "close", "volume")


def _check_root(lake: Lake) -> None:
    folder = lake.root / "ohlcv"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the lake at {lake.root} ({exc.strerror}); pick a writable --lake"
        ) from None
