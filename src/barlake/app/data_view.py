"""What the Data page shows, as plain functions: the lake's series tree, a chart-ready range and
per-day coverage. No streamlit here, so each piece is tested (and timed) without a server.

Per-day coverage splits each UTC day into three parts, in minutes of bar time:
present (bars stored), known-empty (a source answered, no bars: weekends, outages) and missing
(never asked). It is computed with numpy over the bar timestamps and the sidecar's answered
intervals, so a year of 1m bars costs one pass, not 365 interval subtractions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from barlake.app.charts import MAX_CANDLES, Downsampled, downsample
from barlake.lake import Lake, SeriesKey
from barlake.lake import intervals as iv
from barlake.timeframes import DAY_MS, MINUTE_MS, parse_timeframe

Tree = dict[str, dict[str, list[str]]]
STATUSES = ("complete", "partly known empty", "known empty", "partly missing", "missing")
STATUS_COLORS = {"present": "#26a69a", "known empty": "#b0bec5", "missing": "#ef5350"}


def series_tree(lake: Lake) -> Tree:
    """source → instrument → timeframes (shortest first), from the folders in the lake."""
    tree: Tree = {}
    for key in lake.series():
        tree.setdefault(key.source, {}).setdefault(key.instrument, []).append(key.timeframe)
    for instruments in tree.values():
        for timeframes in instruments.values():
            timeframes.sort(key=parse_timeframe)
    return {s: dict(sorted(tree[s].items())) for s in sorted(tree)}


def load_chart(
    lake: Lake,
    key: SeriesKey,
    start_ms: int | None = None,
    end_ms: int | None = None,
    max_candles: int = MAX_CANDLES,
) -> Downsampled:
    """Bars of [start, end) aggregated so at most `max_candles` reach the browser."""
    table = lake.read_key(key, start_ms, end_ms)
    return downsample(table, key.timeframe, max_candles)


@dataclass(frozen=True)
class Span:
    """The stretch of time a series knows anything about: its bars and its answered ranges."""

    start: int
    end: int


def series_span(lake: Lake, key: SeriesKey) -> Span | None:
    """[first bar or first answered, last bar end or last answered end); None for an empty series."""
    ts = lake.timestamps(key)
    answered = lake.coverage(key).answered
    edges = [(int(ts[0]), int(ts[-1]) + parse_timeframe(key.timeframe))] if ts.size else []
    edges += answered
    if not edges:
        return None
    return Span(min(s for s, _ in edges), max(e for _, e in edges))


def day_coverage(lake: Lake, key: SeriesKey, start_ms: int, end_ms: int) -> pd.DataFrame:
    """One row per UTC day of [start, end): minutes present / known empty / missing, and a status."""
    tf = parse_timeframe(key.timeframe)
    first_day = start_ms - start_ms % DAY_MS
    edges = np.arange(first_day, end_ms + DAY_MS, DAY_MS, dtype=np.int64)
    edges = np.clip(edges, start_ms, end_ms)
    edges = np.unique(edges)
    ts = lake.timestamps(key, start_ms, end_ms)
    answered = iv.clip(lake.coverage(key).answered, start_ms, end_ms)
    day_of = np.searchsorted(edges, ts, side="right") - 1
    days = edges.size - 1
    present = np.bincount(day_of, minlength=days)[:days] * tf
    inside = np.bincount(day_of[_inside(ts, answered)], minlength=days)[:days] * tf
    answered_ms = np.diff(_cumulative(answered, edges))
    length = np.diff(edges)
    known_empty = np.clip(answered_ms - inside, 0, None)
    missing = np.clip(length - present - known_empty, 0, None)
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(edges[:-1] - edges[:-1] % DAY_MS, unit="ms", utc=True),
            "present": present // MINUTE_MS,
            "known empty": known_empty // MINUTE_MS,
            "missing": missing // MINUTE_MS,
        }
    )
    frame["status"] = _status(frame)
    return frame


def _inside(ts: np.ndarray, spans: iv.Intervals) -> np.ndarray:
    """Which open times fall inside one of the (sorted, disjoint) spans."""
    if not spans or not ts.size:
        return np.zeros(ts.size, dtype=bool)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    slot = np.searchsorted(starts, ts, side="right") - 1
    return (slot >= 0) & (ts < ends[np.maximum(slot, 0)])


def _cumulative(spans: iv.Intervals, at: np.ndarray) -> np.ndarray:
    """Answered milliseconds before each instant of `at` (spans sorted and disjoint)."""
    if not spans:
        return np.zeros(at.size, dtype=np.int64)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    before = np.concatenate(([0], np.cumsum(ends - starts)))
    slot = np.searchsorted(starts, at, side="right")  # spans starting at or before `at`
    partial = np.where(slot > 0, np.minimum(at, ends[np.maximum(slot - 1, 0)]), 0)
    opened = np.where(slot > 0, starts[np.maximum(slot - 1, 0)], 0)
    return before[np.maximum(slot - 1, 0)] * (slot > 0) + np.maximum(partial - opened, 0)


def _status(frame: pd.DataFrame) -> list[str]:
    """A word per day: complete, known empty, missing, or partly one of the last two."""
    words = []
    for present, empty, missing in zip(
        frame["present"], frame["known empty"], frame["missing"], strict=True
    ):
        if missing:
            words.append("partly missing" if present or empty else "missing")
        elif empty:
            words.append("partly known empty" if present else "known empty")
        else:
            words.append("complete")
    return words


def coverage_figure(days: pd.DataFrame) -> go.Figure:
    """Stacked bars per day: present, known-empty and missing minutes."""
    fig = go.Figure()
    for column, color in STATUS_COLORS.items():
        fig.add_trace(go.Bar(x=days["day"], y=days[column], name=column, marker_color=color))
    fig.update_layout(
        barmode="stack",
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis_title="minutes per day",
        legend={"orientation": "h", "y": 1.1, "x": 0, "traceorder": "normal"},
        bargap=0.05,
    )
    return fig


def coverage_totals(days: pd.DataFrame) -> dict[str, int]:
    """Days per status, for the one-line summary above the coverage chart."""
    counts = days["status"].value_counts()
    return {word: int(counts.get(word, 0)) for word in STATUSES}
