"""Data page: pick a series from the lake, see its candles with indicators, its per-day coverage,
and bring it up to date with a background sync of its instruments row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from barlake.app import charts, data_view, settings, sync_job, widgets
from barlake.app.messages import readable_errors
from barlake.dates import fmt_ms, to_ms
from barlake.lake import Lake, SeriesKey
from barlake.sync import Window
from barlake.timeframes import DAY_MS

OVERLAYS = {"SMA 50": ("sma", 50), "SMA 200": ("sma", 200), "EMA 21": ("ema", 21)}
OVERLAYS |= {"Bollinger 20, 2": ("bbands", (20, 2.0))}
PANELS = {"RSI 14": ("rsi", 14), "MACD 12, 26, 9": ("macd", (12, 26, 9))}
PANELS |= {"ATR 14": ("atr", 14), "NATR 14": ("natr", 14)}


def apply_preselection() -> None:
    """Another page (Scan) asked to open a series: put it into the selectors' state."""
    wanted = st.session_state.pop(settings.OPEN_KEY, None)
    if not wanted:
        return
    for field in widgets.SERIES_FIELDS:
        if wanted.get(field):
            st.session_state[f"data.{field}"] = wanted[field]


def select_range(span: data_view.Span) -> tuple[int, int]:
    """Date range picker, inclusive days; empty means the whole series."""
    first = dt.datetime.fromtimestamp(span.start / 1000, dt.UTC).date()
    last = dt.datetime.fromtimestamp((span.end - 1) / 1000, dt.UTC).date()
    picked = st.date_input(
        "Date range", value=(), min_value=first, max_value=last, key="data.range",
        help="Leave empty for everything; the end day is included.",
    )  # fmt: skip
    days = list(picked) if isinstance(picked, tuple | list) else [picked]
    start = to_ms(days[0]) if days else span.start
    end = to_ms(days[1]) + DAY_MS if len(days) > 1 else span.end
    return max(start, span.start), min(end, span.end)


def select_studies() -> charts.Studies:
    left, right = st.columns(2)
    with left:
        overlays = st.multiselect(
            "Overlays", list(OVERLAYS), default=["SMA 50"], key="data.overlays"
        )
    with right:
        panels = st.multiselect("Panels", list(PANELS), default=["RSI 14"], key="data.panels")
    chosen: dict[str, object] = {}
    for name in overlays:
        field, value = OVERLAYS[name]
        chosen[field] = (*chosen.get(field, ()), value) if field in ("sma", "ema") else value
    for name in panels:
        field, value = PANELS[name]
        chosen[field] = value
    return charts.Studies(**chosen)  # type: ignore[arg-type]


def show_chart(lake: Lake, key: SeriesKey, start: int, end: int) -> None:
    studies = select_studies()
    with readable_errors("Drawing the chart"):
        shown = data_view.load_chart(lake, key, start, end)
        if shown.frame.empty:
            st.info(f"No {key.timeframe} bars between {fmt_ms(start)} and {fmt_ms(end)}.")
            return
        figure = charts.price_figure(shown.frame, studies)
    st.caption(f"{key.source} / {key.instrument} — {shown.label}")
    st.plotly_chart(figure, key="data.chart")


def show_coverage(lake: Lake, key: SeriesKey, start: int, end: int) -> None:
    st.subheader("Coverage")
    with readable_errors("Reading coverage"):
        days = data_view.day_coverage(lake, key, start, end)
    totals = data_view.coverage_totals(days)
    st.markdown(
        " · ".join(f"**{count}** {word}" for word, count in totals.items() if count)
        + f" (days, UTC; {key.timeframe} bars)",
        help="present = bars stored; known empty = a source answered with no bars "
        "(weekend, outage); missing = never asked.",
    )
    st.plotly_chart(data_view.coverage_figure(days), key="data.coverage")
    gaps = days[days["status"] != "complete"]
    if len(gaps):
        with st.expander(f"{len(gaps)} day(s) not complete"):
            st.dataframe(gaps, hide_index=True)


def instruments_files() -> list[Path]:
    typed = st.text_input(
        "Instruments file", key="data.instruments_file",
        placeholder=", ".join(str(p) for p in settings.instruments_files()),
        help="The instruments.csv holding this series' row (BARLAKE_INSTRUMENTS, else the demo's).",
    )  # fmt: skip
    return [Path(typed.strip())] if typed.strip() else settings.instruments_files()


def show_sync(lake: Lake, key: SeriesKey, start: int, derive: list[str]) -> None:
    st.subheader("Sync")
    files = instruments_files()
    with readable_errors("Looking up the instruments row"):
        found = sync_job.find_row(files, key.source, key.instrument)
    for problem in found.problems:
        st.warning(problem)
    if found.row is None:
        where = ", ".join(str(p) for p in found.searched) or "no instruments file found"
        st.info(
            f"No instruments row for {key.source}/{key.instrument} (searched: {where}), so it "
            "cannot be synced from here. Name a file above or set BARLAKE_INSTRUMENTS."
        )
        return
    st.caption(f"Row from {found.path}: {found.row.backend} {found.row.data_symbol}")
    if st.button(f"Sync {key.source}/{key.instrument}", key="data.sync"):
        window = Window(start, None) if st.session_state.get("data.range") else Window(None, None)
        sync_job.start_sync(lake, found.row, window, tuple(derive))
    sync_progress(lake, key)


def sync_status(lake: Lake, key: SeriesKey, live: bool = False) -> None:
    """The last sync of this series: a progress bar while it runs, then its outcome."""
    job = sync_job.job_for(lake, key.source, key.instrument)
    if job is None:
        return
    if live and not job.running:
        st.rerun()  # the whole page, so the chart and coverage show the new bars
    if job.running:
        st.progress(job.fraction, text=f"syncing: {job.done:,} of {job.planned:,} minutes answered")
        return
    if job.error:
        st.error(f"The sync failed: {job.error}\n\nCheck the row and the network, then retry.")
        return
    result = job.result
    bars = result.bars if result else job.bars
    derived = ", ".join(f"{tf}: {n}" for tf, n in (result.derived if result else {}).items())
    st.success(f"Synced {bars:,} new 1m bars" + (f"; derived {derived}" if derived else "") + ".")


# Re-drawn on its own every second, but only while a sync runs (an idle page sends nothing).
live_sync_status = st.fragment(run_every=1.0)(sync_status)


def sync_progress(lake: Lake, key: SeriesKey) -> None:
    job = sync_job.job_for(lake, key.source, key.instrument)
    if job is not None and job.running:
        live_sync_status(lake, key, live=True)
    else:
        sync_status(lake, key)


def main() -> None:
    st.title("Data")
    lake = settings.get_lake()
    tree = widgets.require_series(lake)
    apply_preselection()
    key = SeriesKey.make(**widgets.pick_series(tree, "data"))
    with readable_errors("Reading the series"):
        span = data_view.series_span(lake, key)
    if span is None:
        st.info(f"{key.source}/{key.instrument} {key.timeframe} holds no bars and no coverage yet.")
        st.stop()
    start, end = select_range(span)
    show_chart(lake, key, start, end)
    show_coverage(lake, key, start, end)
    show_sync(lake, key, start, tree[key.source][key.instrument])


main()
