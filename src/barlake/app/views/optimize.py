"""Optimize page: launch `barlake optimize` as a background process, list the run folders,
watch a running run, stop it, and analyse a finished one (Pareto fronts, trials, champion
with its replayed equity curve, the paper manifest to download).

Closing the browser does not stop a run: it is its own process, and this page reads only
the run folder, so any later visit picks the run up where it is.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import streamlit as st

from barlake.app import run_panels, runs_view, settings, widgets
from barlake.app.data_view import series_tree
from barlake.app.messages import readable_errors
from barlake.app.run_launch import launch_run
from barlake.backtest.settings import MODES
from barlake.optimize.config import SAMPLERS, OptimizeConfig
from barlake.strategies import STRATEGIES

SELECTED = "opt.selected"
DEFAULTS = {f.name: f.default for f in fields(OptimizeConfig)}


def series_inputs() -> dict[str, Any] | None:
    with readable_errors("Reading the lake"):
        tree = series_tree(settings.get_lake())
    if not tree:
        st.info("The lake holds no bars yet: sync or import some on the Data page.")
        return None
    c1, c2, c3, c4, c5 = st.columns(5)
    series: dict[str, Any] = widgets.pick_series(tree, "opt", (c1, c2, c3))
    series["start"] = c4.text_input("Start (UTC, optional)", key="opt.start").strip() or None
    series["end"] = c5.text_input("End (UTC, exclusive, optional)", key="opt.end").strip() or None
    return series


def search_inputs() -> dict[str, Any]:
    """The search settings, starting at `OptimizeConfig`'s defaults (`barlake optimize`'s)."""
    strategies = st.multiselect(
        "Strategies", list(STRATEGIES), default=list(DEFAULTS["strategies"]), key="opt.strategies"
    )
    modes = st.multiselect(
        "Position modes", list(MODES), default=list(DEFAULTS["modes"]), key="opt.modes"
    )
    c1, c2, c3, c4 = st.columns(4)
    values = {
        "strategies": tuple(strategies),
        "modes": tuple(modes),
        "max_trials": c1.number_input("Trials per strategy", 1, 100_000, DEFAULTS["max_trials"], key="opt.trials"),
        "time_budget": c2.number_input("Time budget (s)", 1.0, 7 * 86_400.0, DEFAULTS["time_budget"], 60.0, key="opt.budget"),
        "workers": c3.number_input("Workers", 1, 256, DEFAULTS["workers"], key="opt.workers"),
        "min_trades": c4.number_input("Min train trades", 0, 100_000, DEFAULTS["min_trades"], key="opt.min_trades"),
        "split": c1.number_input("Train share", 0.05, 0.95, DEFAULTS["split"], 0.05, key="opt.split"),
        "walk_forward": c2.number_input("Walk-forward folds (0 = one split)", 0, 50, DEFAULTS["walk_forward"], key="opt.wf"),
        "dd_max": c3.number_input("Champion max test drawdown %", 0.1, 100.0, DEFAULTS["dd_max"], 1.0, key="opt.dd_max"),
        "fees_bps": c4.number_input("Fees (bps per fill)", 0.0, 1000.0, DEFAULTS["fees_bps"], 0.5, key="opt.fees"),
        "slippage_bps": c1.number_input("Slippage (bps per fill)", 0.0, 1000.0, DEFAULTS["slippage_bps"], 0.5, key="opt.slip"),
        "seed": c2.number_input("Seed", 0, 2**31 - 1, DEFAULTS["seed"], key="opt.seed"),
        "sampler": c3.selectbox("Sampler", list(SAMPLERS), index=SAMPLERS.index(DEFAULTS["sampler"]), key="opt.sampler"),
        "population": c4.number_input("Population (0 = default)", 0, 10_000, 0, key="opt.population"),
    }  # fmt: skip
    values["population"] = int(values["population"]) or None
    return values


def launch_section() -> None:
    """The form; the button validates the settings here, then starts the process."""
    series = series_inputs()
    if series is None:
        return
    search = search_inputs()
    run_id = st.text_input("Run id (optional: letters, digits, '.', '-')", key="opt.run_id")
    if not st.button("Launch run", type="primary", key="opt.launch"):
        return
    with readable_errors("Launching the run"):
        config = OptimizeConfig(**series, **search)
        launch = launch_run(
            config,
            runs_dir=settings.runs_dir(),
            lake=settings.lake_dir(),
            run_id=run_id.strip() or None,
        )
    st.session_state[SELECTED] = launch.folder
    st.success(
        f"Started {launch.folder} (process {launch.pid}). It keeps running when you close the "
        f"browser; its output goes to {launch.log}."
    )


def runs_section() -> None:
    runs_dir = settings.runs_dir()
    views = runs_view.list_runs(runs_dir)
    if not views:
        st.info(f"No runs in {runs_dir} yet: launch one above, or run `barlake optimize`.")
        return
    st.dataframe(runs_view.runs_table(views), hide_index=True, key="opt.runs")
    names = [view.name for view in views]
    if st.session_state.get(SELECTED) in names:
        st.session_state["opt.run"] = st.session_state.pop(SELECTED)
    name = widgets.pick("Run", names, "opt.run")
    st.button("Refresh", key="opt.refresh")
    run_panels.show_run(next(view for view in views if view.name == name))


def main() -> None:
    st.title("Optimize")
    with st.expander("Launch a run", expanded=False):
        launch_section()
    st.subheader("Runs")
    runs_section()


main()
