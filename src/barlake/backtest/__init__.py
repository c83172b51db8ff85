"""Backtests on lake bars: a numba engine behind `from_signals`, sweeps, HTML reports, adapters.

from barlake.backtest import from_signals
result = from_signals(bars, entries, exits, fees_bps=4.5, tp_pct=2.0, sl_pct=1.0)
result.trades, result.equity, result.stats
"""

from barlake.adapters import to_backtesting_py, to_backtrader, to_vectorbt
from barlake.backtest.api import from_signals
from barlake.backtest.metrics import STAT_KEYS
from barlake.backtest.result import TRADE_COLUMNS, Result
from barlake.backtest.settings import Settings
from barlake.backtest.sweep import run_strategy, sweep

__all__ = [
    "STAT_KEYS",
    "TRADE_COLUMNS",
    "Result",
    "Settings",
    "from_signals",
    "run_strategy",
    "sweep",
    "to_backtesting_py",
    "to_backtrader",
    "to_vectorbt",
]
