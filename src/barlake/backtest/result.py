"""What a backtest returns: the trades, the equity curve and the stats, on the bars' own index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from barlake.backtest import layout as L
from barlake.backtest.settings import Settings

TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "side",
    "size",
    "fees",
    "pnl",
    "return_pct",
    "exit_reason",
    "entry_bar",
    "exit_bar",
    "adds",
)
# The trade columns people read (the CLI's table, the app's): bar positions left out.
TRADE_SHOWN = (
    "entry_time",
    "exit_time",
    "side",
    "entry_price",
    "exit_price",
    "size",
    "fees",
    "pnl",
    "return_pct",
    "exit_reason",
    "adds",
)


@dataclass
class Result:
    """`trades`: one row per round trip (prices are fill prices after slippage, before fees;
    `fees` is entry + exit; `pnl` and `return_pct` are net of fees, the return against the
    entry notional). `equity`: marked at each close, after that bar's fills. `stats`: see
    `barlake.backtest.metrics`."""

    trades: pd.DataFrame
    equity: pd.Series
    stats: dict[str, float]
    settings: Settings
    bars: pd.DataFrame = field(repr=False)

    @property
    def drawdown(self) -> pd.Series:
        """Drawdown in percent below the running peak (which starts at the initial cash)."""
        peak = np.maximum.accumulate(np.r_[self.settings.init_cash, self.equity.to_numpy()])[1:]
        values = (1.0 - self.equity.to_numpy() / peak) * 100.0
        return pd.Series(values, index=self.equity.index, name="drawdown_pct")

    def report(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write a self-contained HTML report (candlesticks, trades, equity, drawdown)."""
        from barlake.backtest.report import write_report

        return write_report(self, path, title=title)


def trades_frame(rec: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Trade records (layout.R_*) → the `Result.trades` frame, times taken from the fill bars."""
    entry_bar = rec[:, L.R_ENTRY_BAR].astype(np.int64)
    exit_bar = rec[:, L.R_EXIT_BAR].astype(np.int64)
    reasons = pd.Categorical.from_codes(rec[:, L.R_REASON].astype(np.int64), categories=L.REASONS)
    sides = pd.Categorical.from_codes(
        (rec[:, L.R_SIDE] < 0).astype(np.int64), categories=("long", "short")
    )
    data = {
        "entry_time": index.take(entry_bar),
        "exit_time": index.take(exit_bar),
        "entry_price": rec[:, L.R_ENTRY_PRICE],
        "exit_price": rec[:, L.R_EXIT_PRICE],
        "side": sides,
        "size": rec[:, L.R_UNITS],
        "fees": rec[:, L.R_FEES],
        "pnl": rec[:, L.R_PNL],
        "return_pct": rec[:, L.R_RETURN] * 100.0,
        "exit_reason": reasons,
        "entry_bar": entry_bar,
        "exit_bar": exit_bar,
        "adds": rec[:, L.R_ADDS].astype(np.int64),
    }
    return pd.DataFrame(data, columns=list(TRADE_COLUMNS))
