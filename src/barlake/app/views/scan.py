"""Scan page: rank a universe by a score on each instrument's latest bar, after a filter, and
open any ranked instrument's chart on the Data page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from barlake.app import scan_view, settings, widgets
from barlake.app.messages import readable_errors
from barlake.lake import Lake
from barlake.scan import DEFAULT_SCORE, ScanResult

RESULT_KEY = "scan.result"


def ask(lake: Lake) -> scan_view.ScanRequest | None:
    """The scan form; returns a request when 'Scan' was pressed."""
    tree = widgets.require_series(lake)
    frames = scan_view.timeframes(tree)
    left, right = st.columns(2)
    with left:
        default = frames.index("1h") if "1h" in frames else 0
        timeframe = st.selectbox("Timeframe", frames, index=default, key="scan.timeframe")
    with right:
        options = scan_view.universes(tree, timeframe, settings.instruments_files())
        universe = st.selectbox("Universe", options, key="scan.universe")
    with st.form("scan.form", border=False):
        path = st.text_input(
            "Universe file",
            key="scan.file",
            help="An instruments file (CSV or YAML); overrides the universe above.",
        )
        where = st.text_input(
            "Filter", key="scan.filter", placeholder="rsi14 > 50 and macd_hist > 0"
        )
        score = st.text_input(
            "Score", value="default", key="scan.score", help=f"default = {DEFAULT_SCORE}"
        )
        pressed = st.form_submit_button("Scan", type="primary")
    if not pressed:
        return None
    chosen = path.strip() or scan_view.universe_value(str(universe))
    return scan_view.ScanRequest(chosen, str(timeframe), where.strip(), score.strip())


def show(result: ScanResult, timeframe: str) -> None:
    """The ranked table (select a row to open it), then the skipped ones with reasons."""
    st.caption(scan_view.summary(result))
    ranked = result.ranked
    if ranked.empty:
        st.info("No instrument passed the filter.")
    else:
        picked = st.dataframe(
            ranked,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="scan.table",
        )
        rows = picked.selection.rows if picked is not None else []
        if rows:
            open_on_data_page(scan_view.row_target(ranked, rows[0], timeframe))
        choices = [f"{s}/{i}" for s, i in zip(ranked["source"], ranked["instrument"], strict=True)]
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        with left:
            choice = st.selectbox("Open on the Data page", choices, key="scan.open")
        with right:
            if st.button("Open chart", key="scan.open_button"):
                open_on_data_page(scan_view.row_target(ranked, choices.index(choice), timeframe))
    skipped = scan_view.skipped_frame(result)
    if len(skipped):
        with st.expander(f"{len(skipped)} skipped"):
            st.dataframe(skipped, hide_index=True)


def open_on_data_page(target: dict[str, str]) -> None:
    st.session_state[settings.OPEN_KEY] = target
    st.switch_page(settings.DATA_PAGE)


def main() -> None:
    st.title("Scan")
    lake = settings.get_lake()
    request = ask(lake)
    if request is not None:
        if not Path(request.universe).is_file() and "/" in request.universe:
            st.error(
                f"Universe file {request.universe} not found; give the path of an instruments file."
            )
            st.stop()
        with readable_errors("Scanning"), st.spinner("Scanning…"):
            st.session_state[RESULT_KEY] = (request, scan_view.run_scan(lake, request))
    stored = st.session_state.get(RESULT_KEY)
    if stored is None:
        st.info("Choose a universe and press Scan.")
        return
    done, result = stored
    st.caption(
        f"Universe {done.universe}, {done.timeframe} bars, filter {done.filter or 'none'}, score {done.score}"
    )
    show(result, done.timeframe)


main()
