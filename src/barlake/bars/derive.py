"""Derive coarser timeframes from the lake's 1m truth, incrementally and only for whole windows.

A derived bar is written only when 1m coverage spans its whole bucket, so a bucket still
forming (or with a hole nobody has fetched) is left for a later run. Each derived series keeps
`_derive.json`: the offset it was built with and a fingerprint per 1m month, so a re-run
recomputes only months whose 1m file or coverage changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from barlake.bars.resample import resample_table
from barlake.errors import ConfigError
from barlake.lake import intervals as iv
from barlake.lake import layout
from barlake.lake.atomic import write_bytes_atomic
from barlake.lake.layout import SeriesKey
from barlake.lake.store import Lake
from barlake.timeframes import MINUTE_MS, ceil_ts, floor_ts, format_timeframe, parse_timeframe

BASE = "1m"


@dataclass
class DeriveResult:
    key: SeriesKey
    months_recomputed: int = 0
    bars: int = 0
    offset_ms: int = 0
    skipped_months: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)


def derive(
    lake: Lake,
    source: str,
    instrument: str,
    timeframe: str,
    *,
    offset_ms: int = 0,
    rebuild: bool = False,
) -> DeriveResult:
    """Bring one derived series up to date with its 1m series."""
    base = lake.key(source, instrument, BASE)
    target = lake.key(source, instrument, timeframe)
    tf = parse_timeframe(target.timeframe)
    if tf <= MINUTE_MS:
        raise ConfigError(f"cannot derive {timeframe} from 1m: pick a longer timeframe such as 5m")
    state_path = layout.series_dir(lake.root, target) / layout.DERIVE_FILE
    state = _load_state(state_path)
    if state and state.get("offset_ms", 0) != offset_ms and not rebuild:
        raise ConfigError(
            f"{target} was derived with offset {state.get('offset_ms', 0) // MINUTE_MS}m; "
            "add --rebuild to rebuild it with the new offset"
        )
    if rebuild:
        shutil.rmtree(layout.series_dir(lake.root, target), ignore_errors=True)
        state = {}
    answered = lake.coverage(base).answered
    prints = _fingerprints(lake, base, answered)
    done: dict[str, str] = dict(state.get("months", {}))
    # A month that vanished (quarantined) counts as changed: its derived bars must go too.
    changed = sorted(m for m in prints.keys() | done.keys() if done.get(m) != prints.get(m))
    result = DeriveResult(target, offset_ms=offset_ms, skipped_months=len(prints) - len(changed))
    for lo, hi in _bucket_ranges(changed, tf, offset_ms):
        result.bars += _derive_range(lake, base, target, lo, hi, answered, offset_ms)
        result.ranges.append((lo, hi))
    result.months_recomputed = len(changed)
    state = {
        "base": BASE,
        "offset_ms": offset_ms,
        "timeframe": format_timeframe(tf),
        "months": prints,
    }
    if changed or not state_path.exists():
        state_path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(state_path, json.dumps(state, sort_keys=True).encode())
    return result


def _derive_range(
    lake: Lake,
    base: SeriesKey,
    target: SeriesKey,
    lo: int,
    hi: int,
    answered: iv.Intervals,
    offset_ms: int,
) -> int:
    """Recompute the buckets in [lo, hi): complete ones written, the range's coverage replaced."""
    tf = parse_timeframe(target.timeframe)
    bars, _counts = resample_table(lake.read_key(base, lo, hi), tf, offset_ms)
    starts = bars.column("timestamp_ms").to_numpy()
    keep = complete_buckets(starts, tf, answered)
    if not keep.all():
        bars = bars.filter(keep)
    windows = [
        (ceil_ts(s, tf, offset_ms), floor_ts(e, tf, offset_ms))
        for s, e in iv.clip(answered, lo, hi)
    ]
    lake.write_key(
        target, bars, covered=iv.normalize(windows), offset_ms=offset_ms, replace=(lo, hi)
    )
    return bars.num_rows


def complete_buckets(starts: np.ndarray, tf_ms: int, answered: iv.Intervals) -> np.ndarray:
    """Mask of buckets [s, s + tf) lying wholly inside one answered interval."""
    if not answered or starts.size == 0:
        return np.zeros(starts.size, dtype=bool)
    lows = np.array([s for s, _ in answered], dtype=np.int64)
    highs = np.array([e for _, e in answered], dtype=np.int64)
    j = np.searchsorted(lows, starts, side="right") - 1
    inside = j >= 0
    return inside & (highs[np.maximum(j, 0)] >= starts + tf_ms)


def _bucket_ranges(months: list[str], tf: int, offset_ms: int) -> list[tuple[int, int]]:
    """Changed months → bucket-aligned ranges holding every bucket that touches them, merged."""
    spans = []
    for label in months:
        year, month = (int(x) for x in label.split("-"))
        start, end = layout.month_bounds(year, month)
        spans.append((floor_ts(start, tf, offset_ms), ceil_ts(end, tf, offset_ms)))
    return iv.normalize(spans)


def _fingerprints(lake: Lake, base: SeriesKey, answered: iv.Intervals) -> dict[str, str]:
    """Per 1m month: file identity (inode, size, mtime) + the month's coverage, hashed."""
    months = set(lake.months(base))
    for start, end in answered:
        months.update(layout.months_between(start, end))
    prints = {}
    for year, month in sorted(months):
        lo, hi = layout.month_bounds(year, month)
        path = lake.path(base, year, month)
        ident = _file_identity(path)
        spans = iv.clip(answered, lo, hi)
        digest = hashlib.blake2b(f"{ident}|{spans}".encode(), digest_size=12).hexdigest()
        prints[f"{year:04d}-{month:02d}"] = digest
    return prints


def _file_identity(path: Path) -> str:
    try:
        st = path.stat()
    except FileNotFoundError:
        return "absent"
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def _load_state(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except ValueError:
        return {}  # an unreadable state only costs a full recompute


def is_derived(lake: Lake, key: SeriesKey) -> bool:
    """Series built by derive (imported coarse series have no 1m behind them)."""
    return (layout.series_dir(lake.root, key) / layout.DERIVE_FILE).exists()


def forget_derived_months(lake: Lake, key: SeriesKey) -> None:
    """Keep the offset but drop the fingerprints, so the next derive recomputes every month."""
    path = layout.series_dir(lake.root, key) / layout.DERIVE_FILE
    state = _load_state(path)
    if state:
        state["months"] = {}
        write_bytes_atomic(path, json.dumps(state, sort_keys=True).encode())


def derived_offset(lake: Lake, key: SeriesKey) -> int:
    """The bucket offset a derived series was built with (0 for 1m and unknown series)."""
    state = _load_state(layout.series_dir(lake.root, key) / layout.DERIVE_FILE)
    return int(state.get("offset_ms", 0))


def compare_with_base(
    lake: Lake, key: SeriesKey, year: int, month: int, table: pa.Table, offset_ms: int
) -> str | None:
    """A derived month must equal what its 1m bars give today (None when it does)."""
    base = lake.key(key.source, key.instrument, BASE)
    tf = parse_timeframe(key.timeframe)
    lo, hi = layout.month_bounds(year, month)
    lo, hi = floor_ts(lo, tf, offset_ms), ceil_ts(hi, tf, offset_ms)
    expected, _ = resample_table(lake.read_key(base, lo, hi + tf), tf, offset_ms)
    ts = table.column("timestamp_ms").to_numpy()
    exp_ts = expected.column("timestamp_ms").to_numpy()
    pos = np.searchsorted(exp_ts, ts)
    found = (
        (pos < exp_ts.size) & (exp_ts[np.minimum(pos, exp_ts.size - 1)] == ts)
        if exp_ts.size
        else pos < 0
    )
    if not found.all():
        return f"{int((~found).sum())} derived bar(s) have no 1m bars behind them; re-derive"
    for name in ("open", "high", "low", "close", "volume"):
        got = table.column(name).to_numpy()
        want = expected.column(name).to_numpy()[pos]
        if not np.allclose(got, want, rtol=1e-12, atol=0.0):
            return f"column {name} differs from the 1m bars; re-derive (barlake derive --rebuild)"
    return None


def derive_all(
    lake: Lake,
    timeframes: list[str],
    *,
    source: str | None = None,
    instrument: str | None = None,
    offset_ms: int = 0,
    rebuild: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[DeriveResult], None] | None = None,
) -> list[DeriveResult]:
    """Derive every 1m series (optionally one source, instruments matching a regex).

    `on_start(total)` and `on_done(result)` let a caller show progress on long runs.
    """
    try:
        pattern = re.compile(instrument) if instrument else None
    except re.error as exc:
        raise ConfigError(f"bad --instrument regex {instrument!r}: {exc}") from exc
    for tf in timeframes:
        parse_timeframe(tf)  # every timeframe is checked before anything is written
    bases = [
        k
        for k in lake.series(source)
        if k.timeframe == BASE and (pattern is None or pattern.fullmatch(k.instrument))
    ]
    if not bases:
        raise ConfigError("no 1m series match; see `barlake ls` for what the lake holds")
    if on_start:
        on_start(len(bases) * len(timeframes))
    results = []
    for key in bases:
        for tf in timeframes:
            results.append(
                derive(lake, key.source, key.instrument, tf, offset_ms=offset_ms, rebuild=rebuild)
            )
            if on_done:
                on_done(results[-1])
    return results
