"""Backtest page: one strategy (or YAML rules) on one lake series, with costs, TP/SL and a
position mode; shows the stats, the trades, equity and drawdown, and the trades on the candles.

The widgets only collect a `BacktestRequest`; `backtest_view.run_request` runs it with the
library's own functions, so the page shows exactly what `barlake backtest` prints.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from barlake.app import backtest_view as bv
from barlake.app import charts, run_charts, settings, widgets
from barlake.app.data_view import Tree, series_tree
from barlake.app.messages import readable_errors
from barlake.backtest.runner import BacktestRun
from barlake.backtest.settings import DIRECTIONS, MODES, Settings
from barlake.strategies import STRATEGIES, Param

RESULT_KEY = "bt.last_run"
FROM_RULES = "as in the rules"


def series_inputs(tree: Tree) -> dict[str, Any]:
    series = widgets.pick_series(tree, "bt")
    left, right = st.columns(2)
    start = left.text_input("Start (UTC, optional)", key="bt.start", placeholder="2024-03-01")
    end = right.text_input("End (UTC, exclusive, optional)", key="bt.end")
    return series | {"start": start.strip() or None, "end": end.strip() or None}


def param_input(strategy: str, param: Param) -> Any:
    """One widget per declared parameter, bounded by its range."""
    key = f"bt.param.{strategy}.{param.name}"
    if param.kind == "choice":
        return st.selectbox(param.name, list(param.choices), key=key, help=param.help)
    cast = int if param.kind == "int" else float
    return st.number_input(
        param.name,
        min_value=cast(param.low),
        max_value=cast(param.high),
        value=cast(param.default),
        step=cast(1 if param.kind == "int" else 0.1),  # any value in range, not only the grid
        key=key,
        help=param.help,
    )


def strategy_inputs() -> tuple[str, dict[str, Any], str]:
    """(strategy, parameter values, rules YAML text)."""
    strategy = st.selectbox("Strategy", list(bv.STRATEGY_CHOICES), key="bt.strategy")
    if strategy != bv.RULES:
        params = STRATEGIES[strategy].params
        columns = st.columns(max(1, len(params)))
        values = {}
        for column, param in zip(columns, params, strict=False):
            with column:
                values[param.name] = param_input(strategy, param)
        return strategy, values, ""
    text = st.text_area("Rules YAML", value=bv.EXAMPLE_RULES, height=160, key="bt.rules")
    upload = st.file_uploader("…or upload a rules file", type=["yaml", "yml"], key="bt.upload")
    if upload is not None:
        text = upload.getvalue().decode("utf-8", errors="replace")
    return strategy, {}, text


def mode_inputs(mode: str) -> dict[str, Any]:
    """The chosen position mode's own parameters, starting at the backtest's defaults."""
    if mode == "grid":
        left, right = st.columns(2)
        step = left.number_input(
            "Grid step %", 0.05, 50.0, Settings.grid_step_pct, 0.05, key="bt.grid_step"
        )
        adds = right.number_input("Grid adds", 0, 20, Settings.grid_adds, 1, key="bt.grid_adds")
        return {"grid_step_pct": float(step), "grid_adds": int(adds)}
    if mode == "martingale":
        left, right = st.columns(2)
        mult = left.number_input(
            "Martingale multiplier", 1.0, 10.0, Settings.martingale_mult, 0.1, key="bt.mart_mult"
        )
        cap = right.number_input(
            "Martingale cap", 1.0, 64.0, Settings.martingale_cap, 1.0, key="bt.mart_cap"
        )
        return {"martingale_mult": float(mult), "martingale_cap": float(cap)}
    return {}


def execution_inputs(rules: bool) -> dict[str, Any]:
    """Costs, TP/SL, size, direction and the position mode with its parameters; the defaults
    are the backtest's own (`Settings`), as `barlake backtest` starts from."""
    c1, c2, c3, c4 = st.columns(4)
    fees = c1.number_input(
        "Fees (bps per fill)", 0.0, 1000.0, Settings.fees_bps, 0.5, key="bt.fees"
    )
    slippage = c2.number_input(
        "Slippage (bps per fill)", 0.0, 1000.0, Settings.slippage_bps, 0.5, key="bt.slip"
    )
    tp = c3.number_input("Take profit % (0 = off)", 0.0, 1000.0, 0.0, 0.1, key="bt.tp")
    sl = c4.number_input("Stop loss % (0 = off)", 0.0, 99.9, 0.0, 0.1, key="bt.sl")
    c1, c2, c3 = st.columns(3)
    size = c1.number_input(
        "Size (fraction of equity)", 0.01, 1.0, Settings.size, 0.05, key="bt.size"
    )
    directions = [FROM_RULES, *DIRECTIONS] if rules else list(DIRECTIONS)
    direction = c2.selectbox("Direction", directions, key=f"bt.direction.{rules}")
    mode = c3.selectbox("Position mode", list(MODES), key="bt.mode")
    return bv.position_options(
        fees_bps=fees,
        slippage_bps=slippage,
        tp_pct=tp,
        sl_pct=sl,
        mode=mode,
        size=size,
        mode_params=mode_inputs(mode),
        direction=None if direction == FROM_RULES else direction,
    )


def show_result(run: BacktestRun, timeframe: str, label: str) -> None:
    result = run.result
    st.subheader(f"Result: {label}")
    for column, (name, value) in zip(st.columns(5), bv.headline(run), strict=True):
        column.metric(name, value)
    if not len(result.trades):
        st.warning(
            "No trades: the strategy never entered on these bars. Try other parameters, "
            "a longer range or another timeframe."
        )
    st.subheader("Stats")
    st.dataframe(bv.stats_frame(result.stats), key="bt.stats")
    st.subheader("Price and trades")
    shown = charts.downsample(result.bars, timeframe)
    st.caption(shown.label)
    st.plotly_chart(charts.price_figure(shown.frame, trades=result.trades), key="bt.price")
    st.subheader("Equity and drawdown")
    equity, drawdown = run_charts.display_curves(result.equity, result.drawdown, timeframe)
    st.plotly_chart(run_charts.equity_figure(equity, drawdown), key="bt.equity")
    st.subheader(f"Trades ({len(result.trades)})")
    st.dataframe(bv.trades_frame(result), hide_index=True, key="bt.trades")


def main() -> None:
    st.title("Backtest")
    lake = settings.get_lake()
    with readable_errors("Reading the lake"):
        tree = series_tree(lake)
    if not tree:
        st.info(f"The lake at {lake.root} holds no bars yet: sync or import some on the Data page.")
        return
    series = series_inputs(tree)
    strategy, params, rules_text = strategy_inputs()
    options = execution_inputs(strategy == bv.RULES)
    if st.button("Run backtest", type="primary", key="bt.run"):
        request = bv.BacktestRequest(**series, strategy=strategy, params=params,
                                     rules_text=rules_text, options=options)  # fmt: skip
        st.session_state.pop(RESULT_KEY, None)
        with st.spinner("Backtesting…"), readable_errors("Backtest"):
            run = bv.run_request(lake, request)
        label = f"{series['source']}/{series['instrument']} {series['timeframe']} · {run.title}"
        st.session_state[RESULT_KEY] = (run, series["timeframe"], label)
    if RESULT_KEY in st.session_state:
        show_result(*st.session_state[RESULT_KEY])


main()
