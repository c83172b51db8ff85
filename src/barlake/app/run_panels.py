"""The Optimize page's view of one run: a live monitor while it runs, the analysis once it is
done, and a readable box (with what to do) when it died or its files are broken.

Everything shown is read from the run folder on each rerun, so a browser refresh, a second
browser or a restarted app server all see the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from barlake.app import champion_view as cv
from barlake.app import run_charts, runs_view
from barlake.app.messages import shown_errors
from barlake.app.run_launch import launch_resume
from barlake.app.runs_view import RunView
from barlake.optimize import stop as stop_run

REFRESH_S = 2.0
STOPPING = "Stop requested: every worker finishes its current trial, then the report is written."


def show_run(view: RunView) -> None:
    """The panel of the selected run, by its state."""
    st.header(f"Run {view.name}")
    st.caption(f"{view.path} · state: {view.state}")
    if view.problem:
        st.error(view.problem)
    if view.live:
        monitor(view.path)
    if view.resumable:
        resume_button(view)
    if view.finished:
        analysis(view)


def resume_button(view: RunView) -> None:
    if st.button("Resume run", key=f"opt.resume.{view.name}"):
        with shown_errors("Resuming"):
            launch = launch_resume(view.path)
            st.success(
                f"Resumed {view.name} (process {launch.pid}); its output goes to {launch.log}."
            )


@st.fragment(run_every=REFRESH_S)
def monitor(path: Path) -> None:
    """Trials per strategy and the best train points so far, re-read every REFRESH_S."""
    view = runs_view.read_run(path)
    if view is None or not view.live:
        st.rerun()  # the run ended (or died): show the whole page for its new state
        return
    st.subheader("Progress")
    status = view.status or {}
    trials = status.get("trials") or {}
    done, target = int(trials.get("done", 0)), int(trials.get("target", 0))
    st.progress(min(1.0, done / target) if target else 0.0, text=f"{done}/{target} trials")
    if not status:
        st.info("Starting: reading the bars and creating the studies…")
        return
    workers = status.get("workers") or {}
    st.caption(
        f"{workers.get('alive', 0)}/{workers.get('started', 0)} workers · "
        f"{status.get('elapsed_s', 0):,.0f} s · updated {status.get('updated_at', '?')}"
    )
    st.dataframe(runs_view.progress_table(status), hide_index=True, key="opt.progress")
    best = runs_view.best_points(status).assign(feasible=True, pareto=True)
    if len(best):
        st.plotly_chart(run_charts.pareto_figure(best, "train"), key="opt.live_pareto")
    stop_button(view)


def stop_button(view: RunView) -> None:
    if view.state == "stopping":
        st.info(STOPPING)
        return
    if st.button("Stop run", key=f"opt.stop.{view.name}"):
        with shown_errors("Stopping"):
            stop_run(view.path)
            st.info(STOPPING)


def analysis(view: RunView) -> None:
    """Outcome, studies, the chosen fold's Pareto scatters and champion, and every trial."""
    report = view.report or {}
    message = str(report.get("message", "")).replace("\n", "  \n")  # one fold per line
    (st.success if report.get("champion") else st.warning)(message)
    st.subheader("Studies")
    st.dataframe(report.get("studies") or [], hide_index=True, key="opt.studies")
    folds = cv.fold_choices(report)
    fold = folds[0]
    if len(folds) > 1:
        fold = st.selectbox("Fold", folds, key=f"opt.fold.{view.name}")
    entry = cv.fold_entry(report, fold)
    trials = None
    with shown_errors("Reading the trials"):
        trials = runs_view.load_trials(view.path)
        pareto_panels(trials[trials["fold"] == fold], entry, report)
    champion_panel(view, entry, str(report["data"]["timeframe"]))
    if trials is not None:
        st.subheader(f"Trials ({len(trials)})")
        st.dataframe(trials, hide_index=True, key="opt.trials")


def pareto_panels(trials: pd.DataFrame, entry: dict[str, Any], report: dict[str, Any]) -> None:
    """Train and test return vs drawdown of one fold, its champion starred."""
    st.subheader("Pareto fronts")
    champion = entry["champion"]
    star = None if champion is None else (champion["strategy"], entry["fold"], champion["number"])
    dd_max = (report.get("config") or {}).get("dd_max")
    left, right = st.columns(2)
    with left:
        figure = run_charts.pareto_figure(trials, "train", champion=star)
        st.plotly_chart(figure, key="opt.pareto_train")
    with right:
        figure = run_charts.pareto_figure(trials, "test", dd_max=dd_max, champion=star)
        st.plotly_chart(figure, key="opt.pareto_test")


def champion_panel(view: RunView, entry: dict[str, Any], timeframe: str) -> None:
    """The champion of a fold: its stats, its manifest and its replayed test equity."""
    st.subheader("Champion")
    champion, fold = entry["champion"], int(entry["fold"])
    if champion is None:
        st.info(entry["message"])
        return
    st.markdown(f"**{champion['strategy']} #{champion['number']}** (fold {fold})")
    st.caption(", ".join(f"{name}={value}" for name, value in champion["params"].items()))
    st.dataframe(cv.champion_rows(champion), key="opt.champion_stats")
    with shown_errors("Writing the manifest"):
        manifest = _manifest(str(view.path), fold, str((view.report or {}).get("generated_at")))
        st.download_button(
            "Download paper manifest (JSON)",
            data=manifest,
            file_name=f"{view.name}_fold{fold}_champion.json",
            mime="application/json",
            key=f"opt.manifest.{view.name}",
        )
        lake = ((view.context or {}).get("data") or {}).get("lake")
        equity, drawdown, trades = _replayed(manifest, lake, timeframe)
        title = f"Test equity of the replayed manifest ({trades} trades)"
        st.plotly_chart(run_charts.equity_figure(equity, drawdown, title), key="opt.equity")


@st.cache_data(show_spinner="Writing the manifest…", max_entries=32)
def _manifest(run_dir: str, fold: int, generated_at: str) -> bytes:
    """Cached per report version (`generated_at`), so reruns do not replay the test again."""
    del generated_at  # only part of the cache key
    return cv.manifest_bytes(Path(run_dir), fold)


@st.cache_data(show_spinner=False, max_entries=32)
def _replayed(
    manifest: bytes, lake: str | None, timeframe: str
) -> tuple[pd.Series, pd.Series, int]:
    """The champion's test equity and drawdown as drawn, and its trade count: replayed once
    per manifest (whose bars are fingerprinted), not on every rerun of the page."""
    result = cv.champion_result(manifest, lake)
    equity, drawdown = run_charts.display_curves(result.equity, result.drawdown, timeframe)
    return equity, drawdown, len(result.trades)
