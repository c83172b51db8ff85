"""A self-contained HTML report of a backtest: stats, candlesticks with trade markers, equity and
drawdown (plotly, its JavaScript inlined so the file opens offline), and the last trades.

Long series are shown on coarser candles (at most ~4,000) so the page stays light; equity is
sampled at each display bar's last close and drawdown at its deepest point, so no extreme is
hidden. Trade markers always sit at their exact fill times and prices.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from barlake.backtest.metrics import inferred_bar_ms
from barlake.bars.resample import resample
from barlake.errors import ConfigError
from barlake.lake.atomic import write_bytes_atomic
from barlake.timeframes import MINUTE_MS, floor_ts, format_timeframe, parse_timeframe

if TYPE_CHECKING:
    from barlake.backtest.result import Result

MAX_CANDLES = 4_000
_STEPS = tuple(parse_timeframe(name) for name in ("1m", "5m", "15m", "1h", "4h", "1d", "1w"))
_OHLCV = ["open", "high", "low", "close", "volume"]
_LAST_TRADES = 20


def display_bars(bars: pd.DataFrame, limit: int = MAX_CANDLES) -> tuple[pd.DataFrame, int]:
    """Bars resampled to the finest standard timeframe giving at most `limit` candles (weekly
    candles when none does), and the bar size shown."""
    base_ms = inferred_bar_ms(bars.index) or MINUTE_MS
    if len(bars) <= limit or not isinstance(bars.index, pd.DatetimeIndex):
        return bars, base_ms
    span_ms = (bars.index[-1] - bars.index[0]) / pd.Timedelta(milliseconds=1)
    fits = (tf for tf in _STEPS if tf > base_ms and span_ms / tf <= limit)
    tf_ms = next(fits, _STEPS[-1])
    return resample(bars[_OHLCV], format_timeframe(tf_ms)), tf_ms


def _curves(result: Result, tf_ms: int) -> tuple[pd.Series, pd.Series]:
    """Equity (last per display bar) and drawdown (deepest per display bar), on the candles'
    bucket grid (epoch-aligned, weeks from Monday)."""
    equity, drawdown = result.equity, result.drawdown
    index = equity.index
    if not isinstance(index, pd.DatetimeIndex):
        return equity, drawdown
    opens = floor_ts(index.as_unit("ms").asi8, tf_ms)
    bucket = pd.DatetimeIndex(opens.astype("datetime64[ms]"), name=index.name)
    if index.tz is not None:
        bucket = bucket.tz_localize("UTC").tz_convert(index.tz)
    return equity.groupby(bucket).last(), drawdown.groupby(bucket).max()


def _figure(result: Result, title: str) -> Any:
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError as exc:
        raise ConfigError(
            "the HTML report needs plotly: pip install 'barlake[app]' (or plotly)"
        ) from exc
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.03, row_heights=[0.6, 0.25, 0.15]
    )
    for row, traces in enumerate(_traces(result, go), start=1):
        for trace in traces:
            fig.add_trace(trace, row=row, col=1)
    for row, label in ((1, "price"), (2, "equity"), (3, "drawdown %")):
        fig.update_yaxes(title_text=label, row=row, col=1)
    fig.update_layout(
        title=title,
        height=900,
        xaxis_rangeslider_visible=False,
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig


def _traces(result: Result, go: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Traces of the three panels: candles + trade markers, equity, drawdown."""
    candles, tf_ms = display_bars(result.bars.rename(columns=str.lower))
    equity, drawdown = _curves(result, tf_ms)
    price = go.Candlestick(
        x=candles.index,
        open=candles["open"],
        high=candles["high"],
        low=candles["low"],
        close=candles["close"],
        name=f"price ({format_timeframe(tf_ms)})",
    )
    line = go.Scatter(x=equity.index, y=equity.to_numpy(), name="equity", line={"color": "#1f77b4"})
    dd = go.Scatter(
        x=drawdown.index,
        y=-drawdown.to_numpy(),
        name="drawdown %",
        fill="tozeroy",
        line={"color": "#d62728"},
    )
    return [price, *_markers(result.trades, go)], [line], [dd]


def _markers(trades: pd.DataFrame, go: Any) -> list[Any]:
    """Entry triangles (up for long, down for short) and exit crosses, with hover details."""
    hover = [
        f"{s} {r} pnl {p:,.2f} ({q:+.2f}%)"
        for s, r, p, q in zip(
            trades.side, trades.exit_reason, trades.pnl, trades.return_pct, strict=True
        )
    ]
    long_side = (trades.side == "long").to_numpy()
    entry = go.Scattergl(
        x=trades.entry_time,
        y=trades.entry_price,
        mode="markers",
        name="entry",
        marker={
            "symbol": np.where(long_side, "triangle-up", "triangle-down"),
            "size": 9,
            "color": np.where(long_side, "#2ca02c", "#9467bd"),
        },
        text=hover,
    )
    win = (trades.pnl > 0).to_numpy()
    exit_ = go.Scattergl(
        x=trades.exit_time,
        y=trades.exit_price,
        mode="markers",
        name="exit",
        marker={"symbol": "x", "size": 8, "color": np.where(win, "#2ca02c", "#d62728")},
        text=hover,
    )
    return [entry, exit_]


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='stats'>{cells}</table>"


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def render(result: Result, title: str | None = None) -> str:
    """The report as one HTML string."""
    name = title or "barlake backtest"
    fig = _figure(result, name)
    stats = _table([(k, _format(v)) for k, v in result.stats.items()])
    settings = _table([(k, _format(v)) for k, v in result.settings.as_dict().items()])
    last = result.trades.tail(_LAST_TRADES).drop(columns=["entry_bar", "exit_bar"])
    trades = last.to_html(
        index=False, float_format=lambda v: f"{v:,.6g}", classes="trades", border=0
    )
    plot = fig.to_html(full_html=False, include_plotlyjs=True)
    style = "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:0 2em 1em 0}th,td{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}.row{display:flex;flex-wrap:wrap}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title><style>{style}</style></head>"
        f"<body><h1>{html.escape(name)}</h1><div class='row'>{stats}{settings}</div>{plot}"
        f"<h2>Last {len(last)} trades</h2>{trades}</body></html>"
    )


def write_report(result: Result, path: str | Path, *, title: str | None = None) -> Path:
    """Write the report atomically (a half-written page never replaces a good one)."""
    out = Path(path)
    write_bytes_atomic(out, render(result, title).encode())
    return out
