"""`barlake.adapters`: our bars in the shapes other backtesters expect (Backtrader's PandasData
feed, vectorbt's frame, backtesting.py's capitalised columns on a naive index)."""

from barlake.backtest.adapters import to_backtesting_py, to_backtrader, to_vectorbt

__all__ = ["to_backtesting_py", "to_backtrader", "to_vectorbt"]
