"""Price charts for the pages: candles + volume, indicator overlays and panels, trade markers.

A browser chokes on half a million candles, so bars are first aggregated to the finest
timeframe of a fixed ladder that keeps at most `MAX_CANDLES` of them, and the chart says so
("1m aggregated to 4h: 2,190 candles"). Indicators are computed on the candles shown, so a
50-bar SMA on a 4h chart is the 50 × 4h mean a trader expects. Plotly is the only dependency;
nothing here imports streamlit, so the figures are tested without a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
from plotly.subplots import make_subplots

from barlake.bars.frame import frame_to_table, table_to_frame
from barlake.bars.resample import resample_table
from barlake.bars.schema import TIMESTAMP
from barlake.indicators import api as ta
from barlake.timeframes import format_timeframe, parse_timeframe

MAX_CANDLES = 3000
LADDER = ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w")
UP, DOWN = "#26a69a", "#ef5350"
_LINE_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


@dataclass(frozen=True)
class Downsampled:
    """Bars ready to draw: `frame` at `timeframe`, aggregated from `source_timeframe` if needed."""

    frame: pd.DataFrame
    source_timeframe: str
    timeframe: str

    @property
    def aggregated(self) -> bool:
        return self.timeframe != self.source_timeframe

    @property
    def label(self) -> str:
        """The honest caption: what was stored, what is shown, and how many candles."""
        count = f"{len(self.frame):,} candles"
        if self.aggregated:
            return f"{self.source_timeframe} aggregated to {self.timeframe}: {count}"
        return f"{self.timeframe}: {count}"


@dataclass(frozen=True)
class Studies:
    """Which indicators to draw: overlays on price (SMA/EMA/Bollinger) and panels below it."""

    sma: tuple[int, ...] = ()
    ema: tuple[int, ...] = ()
    bbands: tuple[int, float] | None = None
    rsi: int | None = None
    macd: tuple[int, int, int] | None = None
    atr: int | None = None
    natr: int | None = None

    def panels(self) -> list[str]:
        """Sub-panel names in drawing order (RSI, MACD, ATR, NATR) for the ones switched on."""
        wanted = {"RSI": self.rsi, "MACD": self.macd, "ATR": self.atr, "NATR": self.natr}
        return [name for name, value in wanted.items() if value is not None]


def display_timeframe(span_ms: int, timeframe: str, max_candles: int = MAX_CANDLES) -> str:
    """The finest ladder timeframe (a multiple of `timeframe`) giving ≤ max_candles over the span."""
    tf_ms = parse_timeframe(timeframe)
    for name in LADDER:
        step = parse_timeframe(name)
        if step >= tf_ms and step % tf_ms == 0 and span_ms // step + 1 <= max_candles:
            return name
    weeks = parse_timeframe("1w")
    step = max(weeks, tf_ms)
    while span_ms // step + 1 > max_candles:
        step += weeks
    return format_timeframe(step)


def downsample(
    bars: pd.DataFrame | pa.Table, timeframe: str, max_candles: int = MAX_CANDLES
) -> Downsampled:
    """Aggregate stored bars (a lake table or a frame) so at most `max_candles` reach the browser."""
    table = bars if isinstance(bars, pa.Table) else frame_to_table(bars)
    source_tf = format_timeframe(parse_timeframe(timeframe))
    if table.num_rows == 0:
        return Downsampled(table_to_frame(table), source_tf, source_tf)
    ts = table.column(TIMESTAMP)
    span = int(ts[-1].as_py()) - int(ts[0].as_py()) + parse_timeframe(source_tf)
    target = display_timeframe(span, source_tf, max_candles)
    if target != source_tf:
        table, _ = resample_table(table, parse_timeframe(target))
    return Downsampled(table_to_frame(table), source_tf, target)


def price_figure(
    frame: pd.DataFrame,
    studies: Studies | None = None,
    trades: pd.DataFrame | None = None,
    title: str = "",
) -> go.Figure:
    """Candles with volume, overlays and panels; `trades` (Result.trades columns) adds markers."""
    studies = studies or Studies()
    panels = studies.panels()
    rows = 2 + len(panels)
    heights = [0.55, 0.12, *([0.33 / len(panels)] * len(panels))] if panels else [0.8, 0.2]
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.02, row_heights=heights
    )
    marks = trade_markers(trades) if trades is not None and len(trades) else []
    for trace in [_candles(frame), *_overlays(frame, studies), *marks]:
        fig.add_trace(trace, row=1, col=1)
    fig.add_trace(_volume(frame), row=2, col=1)
    for offset, name in enumerate(panels):
        _add_panel(fig, frame, studies, name, row=3 + offset)
    fig.update_layout(
        title=title or None,
        height=420 + 160 * len(panels),
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        xaxis_rangeslider_visible=False,
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.02, "x": 0},
        bargap=0,
    )
    fig.update_yaxes(title_text="volume", row=2, col=1)
    return fig


def trade_markers(trades: pd.DataFrame) -> list[go.Scatter]:
    """Entries (▲ long, ▼ short) and exits (× green win, red loss) with side and P&L on hover."""
    long_side = (trades["side"].astype(str) == "long").to_numpy()
    pnl = trades["pnl"].to_numpy(dtype=float) if "pnl" in trades else np.zeros(len(trades))
    hover = [
        f"{side} pnl {value:,.2f}"
        for side, value in zip(trades["side"].astype(str), pnl, strict=True)
    ]
    entry = go.Scatter(
        x=_naive_utc(trades["entry_time"]),
        y=trades["entry_price"],
        mode="markers",
        name="entry",
        text=hover,
        marker={
            "symbol": np.where(long_side, "triangle-up", "triangle-down"),
            "size": 10,
            "color": np.where(long_side, "#2ca02c", "#9467bd"),
        },
    )
    exit_ = go.Scatter(
        x=_naive_utc(trades["exit_time"]),
        y=trades["exit_price"],
        mode="markers",
        name="exit",
        text=hover,
        marker={"symbol": "x", "size": 9, "color": np.where(pnl > 0, "#2ca02c", "#d62728")},
    )
    return [entry, exit_]


def point_count(fig: go.Figure) -> int:
    """Data points the figure ships to the browser (the sum of every trace's x values)."""
    return sum(len(trace.x) for trace in fig.data if trace.x is not None)


def _candles(frame: pd.DataFrame) -> go.Candlestick:
    return go.Candlestick(
        x=_times(frame),
        open=frame["open"].to_numpy(),
        high=frame["high"].to_numpy(),
        low=frame["low"].to_numpy(),
        close=frame["close"].to_numpy(),
        name="price",
        increasing_line_color=UP,
        decreasing_line_color=DOWN,
        showlegend=False,
    )


def _volume(frame: pd.DataFrame) -> go.Bar:
    rising = frame["close"].to_numpy() >= frame["open"].to_numpy()
    return go.Bar(
        x=_times(frame), y=frame["volume"].to_numpy(), marker=_two_colors(rising),
        name="volume", showlegend=False,
    )  # fmt: skip


def _times(frame: pd.DataFrame) -> np.ndarray:
    """Open times as naive-UTC datetime64: plotly copies and encodes these far faster than
    an index of tz-aware Timestamps (which it deep-copies one object at a time)."""
    return _naive_utc(frame.index)


def _naive_utc(times: Any) -> np.ndarray:
    """Times as naive-UTC datetime64 (plotly.js has no time zones; naive means UTC here)."""
    index = pd.DatetimeIndex(times)
    return (index.tz_convert("UTC").tz_localize(None) if index.tz else index).to_numpy()


def _two_colors(up: np.ndarray) -> dict[str, Any]:
    """Bar colours from a boolean array through a two-step colorscale (one number per bar,
    not one colour string per bar, which plotly would validate one by one)."""
    return {"color": up.astype(np.int8), "colorscale": [[0, DOWN], [1, UP]], "cmin": 0, "cmax": 1}


def _line(x: Any, y: Any, name: str, color_index: int, **extra: Any) -> go.Scatter:
    color = _LINE_COLORS[color_index % len(_LINE_COLORS)]
    return go.Scatter(
        x=x, y=y, mode="lines", name=name, line={"width": 1.2, "color": color}, **extra
    )


def _overlays(frame: pd.DataFrame, studies: Studies) -> list[go.Scatter]:
    """SMA/EMA lines and a shaded Bollinger band, computed on the candles shown."""
    close, x, traces = frame["close"].to_numpy(), _times(frame), []
    for n in studies.sma:
        traces.append(_line(x, ta.sma(close, n), f"SMA {n}", len(traces)))
    for n in studies.ema:
        traces.append(_line(x, ta.ema(close, n), f"EMA {n}", len(traces)))
    if studies.bbands is not None:
        n, k = studies.bbands
        lower, middle, upper, _ = ta.bbands(close, n, k)
        band = {"width": 0.8, "color": "rgba(120,120,120,0.8)"}
        traces.append(go.Scatter(x=x, y=upper, mode="lines", name=f"BB {n},{k:g}", line=band))
        traces.append(
            go.Scatter(
                x=x, y=lower, mode="lines", line=band, fill="tonexty",
                fillcolor="rgba(120,120,120,0.12)", showlegend=False, name="BB lower",
            )
        )  # fmt: skip
        traces.append(_line(x, middle, f"BB mid {n}", len(traces), line_dash="dot"))
    return traces


def _add_panel(fig: go.Figure, frame: pd.DataFrame, studies: Studies, name: str, row: int) -> None:
    """One indicator panel: RSI with 30/70 guides, MACD with histogram, ATR or NATR."""
    x = _times(frame)
    high, low, close = (frame[column].to_numpy() for column in ("high", "low", "close"))
    if name == "RSI" and studies.rsi is not None:
        fig.add_trace(_line(x, ta.rsi(close, studies.rsi), f"RSI {studies.rsi}", 2), row=row, col=1)
        for level in (30, 70):
            fig.add_hline(y=level, line_dash="dash", line_color="grey", row=row, col=1)
        fig.update_yaxes(range=[0, 100], tickvals=[30, 50, 70], row=row, col=1)
    elif name == "MACD" and studies.macd is not None:
        line, signal, hist = ta.macd(close, *studies.macd)
        marker = _two_colors(np.nan_to_num(hist) >= 0)
        fig.add_trace(go.Bar(x=x, y=hist, marker=marker, name="MACD hist"), row=row, col=1)
        fig.add_trace(_line(x, line, "MACD", 0), row=row, col=1)
        fig.add_trace(_line(x, signal, "signal", 1), row=row, col=1)
    elif name == "ATR" and studies.atr is not None:
        fig.add_trace(_line(x, ta.atr(high, low, close, studies.atr), "ATR", 3), row=row, col=1)
    elif name == "NATR" and studies.natr is not None:
        natr = ta.natr(high, low, close, studies.natr)
        fig.add_trace(_line(x, natr, "NATR %", 4), row=row, col=1)
    fig.update_yaxes(title_text=name, row=row, col=1)
