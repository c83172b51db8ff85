"""Per-instrument analysis: the full indicator set over recent bars, saved and summarised."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from barlake.dates import now_ms
from barlake.errors import ConfigError, DataError
from barlake.indicators.export import write_frame
from barlake.indicators.spec import DEFAULT_SPEC, add
from barlake.lake import Lake
from barlake.timeframes import DAY_MS, canonical, parse_timeframe

if TYPE_CHECKING:  # the sync pulls in ccxt: imported only when --sync is asked for
    from barlake.sources.registry import FeedFactory
    from barlake.sync.report import InstrumentResult

# Enough history before the window that SMA50/MACD/Wilder averages are warmed up and settled.
WARMUP_BARS = 300


@dataclass
class Analysis:
    source: str
    instrument: str
    timeframe: str
    path: Path
    rows: int
    summary: dict[str, float] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)


def pick_source(lake: Lake, instrument: str, timeframe: str, source: str | None) -> str:
    """The one source holding the instrument at this timeframe, or an error naming the choices."""
    if source:
        return source
    tf = canonical(timeframe)
    found = sorted(
        {k.source for k in lake.series() if k.instrument == instrument and k.timeframe == tf}
    )
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConfigError(
            f"no {tf} bars for {instrument} in {lake.root}; sync or import them, "
            f"or derive the timeframe (barlake derive --timeframes {tf})"
        )
    raise ConfigError(
        f"{instrument} {tf} exists in several sources ({', '.join(found)}): add --source"
    )


def analyze(
    lake: Lake, instrument: str, *, source: str | None = None, timeframe: str = "1h", days: int = 30
) -> Analysis:
    """Indicators over the last `days` days (computed with warm-up history), written to Parquet."""
    if days < 1:
        raise ConfigError(f"--days must be at least 1, got {days}")
    src = pick_source(lake, instrument, timeframe, source)
    tf_ms = parse_timeframe(timeframe)
    bars = lake.read(src, instrument, timeframe)
    if bars.empty:
        raise DataError(f"no {timeframe} bars for {src}/{instrument}; sync or import them first")
    window_start = bars.index[-1] - pd.Timedelta(days=days) + pd.Timedelta(milliseconds=tf_ms)
    first_needed = max(0, int(bars.index.searchsorted(window_start)) - WARMUP_BARS)
    enriched = add(bars.iloc[first_needed:], list(DEFAULT_SPEC))
    enriched = enriched.loc[enriched.index >= window_start]
    path = lake.root / "exports" / f"{instrument}_{canonical(timeframe)}_analysis.parquet"
    write_frame(path, enriched)
    summary, flags = summarize(enriched.iloc[-1])
    return Analysis(src, instrument, canonical(timeframe), path, len(enriched), summary, flags)


def summarize(last: pd.Series) -> tuple[dict[str, float], dict[str, bool]]:
    """Headline numbers and trend flags of the latest bar (NaN where still warming up)."""
    pick = {
        "close": "close",
        "rsi14": "rsi14",
        "macd": "MACD_12_26_9",
        "macd_signal": "MACDs_12_26_9",
        "macd_hist": "MACDh_12_26_9",
        "atr14": "atr14",
        "natr14": "natr14",
        "bb_zscore": "BBZ_20_2.0",
        "sma50": "sma50",
        "ema21": "ema21",
    }
    summary = {key: float(last.get(col, math.nan)) for key, col in pick.items()}
    s = summary
    flags = {
        "close_above_sma50": s["close"] > s["sma50"],
        "ema21_above_sma50": s["ema21"] > s["sma50"],
        "macd_above_signal": s["macd"] > s["macd_signal"],
        "rsi_overbought": s["rsi14"] > 70,
        "rsi_oversold": s["rsi14"] < 30,
        "outside_bollinger": abs(s["bb_zscore"]) > 2,
    }
    return summary, flags


def sync_for_analysis(
    lake: Lake,
    config: Path,
    instrument: str,
    source: str | None,
    timeframe: str,
    days: int,
    factory: FeedFactory | None = None,
) -> InstrumentResult:
    """`analyze --sync`: fetch what the window and its indicator warm-up need, then derive."""
    from barlake.sync.session import sync_instrument

    if days < 1:
        raise ConfigError(f"--days must be at least 1, got {days}")
    start = now_ms() - days * DAY_MS - (WARMUP_BARS + 1) * parse_timeframe(timeframe)
    return sync_instrument(
        lake, config, instrument, source=source, start_ms=start, timeframes=(timeframe,),
        factory=factory,
    )  # fmt: skip
