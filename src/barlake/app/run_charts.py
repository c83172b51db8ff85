"""Figures of backtest and optimizer results: equity with drawdown, and Pareto scatters.

Plotly only (no streamlit), so the figures are tested without a server. Long equity curves
are cut to the candles' display timeframe the same way the price chart is: equity at each
display bar's last close, drawdown at its deepest, so no extreme is hidden.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from barlake.app.charts import MAX_CANDLES, display_timeframe
from barlake.timeframes import floor_ts, parse_timeframe

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def display_curves(
    equity: pd.Series, drawdown: pd.Series, timeframe: str, limit: int = MAX_CANDLES
) -> tuple[pd.Series, pd.Series]:
    """Equity (last per display bar) and drawdown (deepest per display bar), at most ~limit."""
    index = equity.index
    if len(equity) <= limit or not isinstance(index, pd.DatetimeIndex):
        return equity, drawdown
    stamps = index.as_unit("ms").asi8
    tf_ms = parse_timeframe(display_timeframe(int(stamps[-1] - stamps[0]), timeframe, limit))
    opens = floor_ts(stamps, tf_ms)
    bucket = pd.DatetimeIndex(opens.astype("datetime64[ms]"), name=index.name).tz_localize("UTC")
    return equity.groupby(bucket).last(), drawdown.groupby(bucket).max()


def equity_figure(equity: pd.Series, drawdown: pd.Series, title: str = "") -> go.Figure:
    """Equity above, drawdown (in percent, drawn downwards) below, on one time axis."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.7, 0.3]
    )
    fig.add_trace(
        go.Scatter(x=equity.index, y=equity.to_numpy(), name="equity", line={"color": "#1f77b4"}),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=drawdown.index,
            y=-drawdown.to_numpy(),
            name="drawdown %",
            fill="tozeroy",
            line={"color": "#d62728"},
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    fig.update_layout(
        title=title or None,
        height=420,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"orientation": "h", "y": 1.05, "x": 0},
    )
    return fig


def pareto_figure(
    trials: pd.DataFrame,
    part: str,
    *,
    dd_max: float | None = None,
    champion: tuple[str, int, int] | None = None,
) -> go.Figure:
    """Return vs max drawdown of one part ("train" or "test"). Train: every feasible trial,
    the front members larger; test: the front members (the only ones run on test), with the
    champion's drawdown limit and the champion (strategy, fold, number) starred."""
    ret, dd = f"{part}_return_pct", f"{part}_max_dd_pct"
    shown = trials[trials["feasible"].astype(bool)] if part == "train" else trials
    shown = shown[shown["pareto"].astype(bool)] if part == "test" else shown
    shown = shown.dropna(subset=[ret, dd])
    fig = go.Figure(_strategy_traces(shown, ret, dd))
    title = f"{part} return vs max drawdown"
    if dd_max is not None and part == "test":
        title += f" (champion needs ≤ {dd_max:g} %)"
        if len(shown) and dd_max <= 2 * float(shown[dd].max()):  # a far line would squash the dots
            fig.add_vline(x=dd_max, line_dash="dash", line_color="grey")
    if champion is not None:
        _star(fig, shown, champion, ret, dd)
    fig.update_layout(
        title=title,
        xaxis_title=f"{part} max drawdown %",
        yaxis_title=f"{part} return %",
        height=380,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def _strategy_traces(shown: pd.DataFrame, ret: str, dd: str) -> list[go.Scatter]:
    """One colour per strategy; front members drawn larger."""
    traces = []
    groups = shown.groupby("strategy", sort=False)
    for color, (strategy, group) in zip(PALETTE * 4, groups, strict=False):
        front = group["pareto"].astype(bool).to_numpy()
        labels = [f"#{n} fold {f}" for n, f in zip(group["number"], group["fold"], strict=True)]
        traces.append(
            go.Scatter(
                x=group[dd],
                y=group[ret],
                mode="markers",
                name=str(strategy),
                marker={"color": color, "size": np.where(front, 11, 6), "opacity": 0.85},
                text=labels,
            )
        )
    return traces


def _star(
    fig: go.Figure, shown: pd.DataFrame, champion: tuple[str, int, int], ret: str, dd: str
) -> None:
    strategy, fold, number = champion
    row = shown[
        shown["strategy"].eq(strategy) & shown["fold"].eq(fold) & shown["number"].eq(number)
    ]
    if len(row):
        fig.add_trace(
            go.Scatter(
                x=row[dd],
                y=row[ret],
                mode="markers",
                name="champion",
                marker={"symbol": "star", "size": 18, "color": "gold", "line": {"width": 1}},
            )
        )
