"""Universe scans: indicators on the latest bar of every instrument, a filter, a score, a ranking.

Each instrument is read from the lake and its indicators computed in a thread pool (the numba
kernels release the GIL, Parquet reads mostly do too); the filter and score are then evaluated
once, vectorised over all instruments. Instruments that cannot be scored are reported as
skipped with the reason, never dropped silently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from barlake.errors import BarlakeError, ConfigError
from barlake.indicators.spec import DEFAULT_SPEC, Indicator, alias_map, compute, parse_item
from barlake.lake import Lake
from barlake.scan_expr import Expression, ExpressionError, parse

DEFAULT_SCORE = "(close - sma50) / atr14 + (rsi14 - 50) / 10"
_RAW = ("open", "high", "low", "close", "volume")
_DEFAULTS = [parse_item(item) for item in DEFAULT_SPEC]
# pandas-ta names of multi-output columns carry an output letter after the family prefix.
_OUTPUT_PREFIXES = {
    "MACDs_": "macd_",
    "MACDh_": "macd_",
    "BBL_": "bbands_",
    "BBM_": "bbands_",
    "BBU_": "bbands_",
    "BBZ_": "bbands_",
    "STOCHk_": "stoch_",
    "STOCHd_": "stoch_",
    "VTXP_": "vortex_",
    "VTXM_": "vortex_",
}


@dataclass(frozen=True)
class Member:
    """One instrument of a universe, as the lake names it."""

    source: str
    instrument: str


@dataclass(frozen=True)
class Skipped:
    """An instrument the scan could not score, and why (too few bars, no data, NaN value)."""

    source: str
    instrument: str
    reason: str


@dataclass
class ScanResult:
    """`ranked`: instruments passing the filter, best score first (rank, source, instrument,
    time, score, then every name the expressions read). `failed`: how many did not pass."""

    ranked: pd.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    failed: int = 0
    seconds: float = 0.0

    def top(self, n: int | None) -> pd.DataFrame:
        return self.ranked if n is None else self.ranked.head(n)


def _source_of(row: dict, line: int) -> str:
    """dukascopy backend → 'dukascopy'; else the ccxt exchange id, plus `_<market>` unless spot."""
    explicit = str(row.get("source") or "").strip()
    if explicit:
        return explicit
    if str(row.get("backend") or "").strip().lower() == "dukascopy":
        return "dukascopy"
    exchange = str(row.get("exchange") or "").strip().lower()
    if not exchange:
        raise ConfigError(f"instruments file row {line}: needs an exchange or backend column")
    market = str(row.get("market") or "").strip().lower()
    return exchange if market in ("", "spot", "nan") else f"{exchange}_{market}"


def read_universe_file(path: Path) -> list[Member]:
    """Members of an instruments file (CSV, or YAML list of rows) in file order, no repeats."""
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            rows = data.get("instruments", []) if isinstance(data, dict) else data
        else:
            rows = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read instruments file {path}: {exc}") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(f"{path}: expected rows with an `instrument` column")
    members = []
    for line, row in enumerate(rows, start=2):
        name = str(row.get("instrument") or "").strip()
        if not name:
            raise ConfigError(f"instruments file {path} row {line}: no instrument")
        members.append(Member(_source_of(row, line), name))
    return list(dict.fromkeys(members))


def resolve_universe(lake: Lake, universe: str | Path, timeframe: str) -> list[Member]:
    """An instruments file, or every instrument a source has at `timeframe` in the lake."""
    path = Path(universe)
    if path.is_file():
        return read_universe_file(path)
    source = str(universe)
    keys = [k for k in lake.series(source) if k.timeframe == timeframe]
    if not keys:
        have = sorted({k.source for k in lake.series()})
        raise ConfigError(
            f"universe {source!r} is neither a file nor a source with {timeframe} bars in "
            f"{lake.root} (sources there: {', '.join(have) or 'none'})"
        )
    return [Member(k.source, k.instrument) for k in sorted(keys, key=lambda k: k.instrument)]


def _indicator_for(name: str) -> Indicator | None:
    """The indicator whose column or alias is `name`: sma200, RSI_7, MACDh_5_35_5, bb_z..."""
    for ind in _DEFAULTS:
        if name in ind.columns or name in ind.aliases() or name in alias_map([ind]):
            return ind
    text = name
    for prefix, family in _OUTPUT_PREFIXES.items():
        if name.startswith(prefix):
            text = family + name[len(prefix) :]
    try:
        ind = parse_item(text)
    except ConfigError:
        return None
    return ind if name in ind.columns or name in ind.aliases() else None


def plan(
    expressions: Sequence[Expression], known: Collection[str] = ()
) -> tuple[list[Indicator], dict[str, str]]:
    """Indicators the expressions need and the column each name reads; unknown names fail here,
    before any data is read. Names in `known` are the caller's (a rule's external series): they
    are neither indicators nor columns."""
    indicators: list[Indicator] = []
    columns: dict[str, str] = {"close": "close"}
    for expr in expressions:
        for name in expr.names:
            if name in known:
                continue
            if name in _RAW:
                columns[name] = name
                continue
            ind = _indicator_for(name)
            if ind is None:
                examples = "rsi14, sma200, MACD_12_26_9, BBZ_20_2.0, macd, macd_hist, bb_z"
                raise ExpressionError(
                    f"unknown name {name!r} in {expr.text!r}: use open/high/low/close/volume "
                    f"or an indicator column such as {examples}"
                )
            if ind not in indicators:
                indicators.append(ind)
            columns[name] = name if name in ind.columns else alias_map([ind])[name]
    return indicators, columns


def _latest(
    lake: Lake,
    member: Member,
    timeframe: str,
    window: tuple[object, object],
    indicators: list[Indicator],
    columns: dict[str, str],
) -> dict[str, object] | Skipped:
    """Latest-bar values of every name for one instrument, or why it cannot be scored."""
    try:
        frame = lake.read(member.source, member.instrument, timeframe, *window)
    except BarlakeError as exc:
        return Skipped(member.source, member.instrument, f"cannot read: {exc}")
    need = max([i.warmup for i in indicators], default=0) + 1
    if len(frame) < need:
        worst = max(indicators, key=lambda i: i.warmup).columns[0] if indicators else "close"
        return Skipped(
            member.source,
            member.instrument,
            f"{len(frame)} {timeframe} bars, {worst} needs at least {need}",
        )
    values = compute(frame, indicators)
    row: dict[str, object] = {"time": frame.index[-1]}
    for name, column in columns.items():
        series = values[column] if column in values else frame[column].to_numpy()
        row[name] = float(series[-1])
    missing = [n for n, v in row.items() if n != "time" and np.isnan(v)]
    if missing:
        return Skipped(
            member.source, member.instrument, f"{', '.join(missing)} is NaN on the last bar"
        )
    return {"source": member.source, "instrument": member.instrument, **row}


def scan(
    lake: Lake | Path | str | None,
    universe: str | Path | Sequence[Member],
    *,
    timeframe: str = "1h",
    filter: str | None = None,
    score: str | None = "default",
    start: object = None,
    end: object = None,
    workers: int | None = None,
) -> ScanResult:
    """Scan a universe: latest-bar indicators per instrument (in parallel), filter, score, rank.

    `score="default"` (or None) is DEFAULT_SCORE: distance from the 50-bar mean in ATRs plus
    RSI tilt. `start`/`end` bound the bars read (all by default; indicators need their warm-up).
    """
    began = time.perf_counter()
    store = lake if isinstance(lake, Lake) else Lake(lake)
    where = parse(filter, kind="bool") if filter and filter.strip() else None
    rank_by = parse(DEFAULT_SCORE if score in (None, "", "default") else str(score), kind="num")
    indicators, columns = plan([e for e in (where, rank_by) if e is not None])
    members = (
        list(universe)
        if isinstance(universe, Sequence) and not isinstance(universe, str)
        else resolve_universe(store, universe, timeframe)
    )
    pool_size = max(1, min(workers or os.cpu_count() or 1, len(members) or 1))
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        outcomes = list(
            pool.map(
                lambda m: _latest(store, m, timeframe, (start, end), indicators, columns), members
            )
        )
    rows = [o for o in outcomes if isinstance(o, dict)]
    skipped = [o for o in outcomes if isinstance(o, Skipped)]
    ranked, failed = _rank(rows, list(columns), where, rank_by)
    return ScanResult(ranked, skipped, failed, time.perf_counter() - began)


def _rank(
    rows: list[dict], names: list[str], where: Expression | None, rank_by: Expression
) -> tuple[pd.DataFrame, int]:
    """Evaluate filter and score over all rows at once; best score first, ties by name."""
    table = pd.DataFrame(rows, columns=["source", "instrument", "time", *names])
    values = {n: table[n].to_numpy(dtype=np.float64) for n in names}
    keep = np.ones(len(table), dtype=bool) if where is None else where.evaluate(values)
    keep = np.broadcast_to(keep, (len(table),))
    scores = np.broadcast_to(rank_by.evaluate(values), (len(table),)).astype(np.float64)
    table.insert(3, "score", scores)
    passed = table[keep].sort_values(
        ["score", "instrument"], ascending=[False, True], na_position="last", kind="stable"
    )
    passed.insert(0, "rank", np.arange(1, len(passed) + 1))
    return passed.reset_index(drop=True), int(len(table) - len(passed))
