"""Same SMA(10/20) cross signals through our engine, backtesting.py and vectorbt, on the real
GOOG daily and EURUSD hourly bars: the same trades and final equity within 1e-9 relative.

Convention differences, each asserted below rather than hidden:
- a position still open on the last bar: we close it at the last close with `exit_reason="end"`
  and charge the exit fee; backtesting.py (finalize_trades=False) and vectorbt mark it at the
  last close without that fee. So their final equity = ours + that one exit fee.
- with `fill="close"`, backtesting.py fills a close order inside the next bar's step, so its
  equity on a fill bar is the value before that fill: ours less that fill's fee.
- backtesting.py trades whole units: FractionalBacktest with a 1e-10 unit makes the rounding
  ~1e-13 of a position, far below the tolerance; it needs a size fraction < 1 (we use 0.9999).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from barlake.backtest import from_signals, to_backtesting_py, to_vectorbt
from barlake.strategies import get_strategy

FEES_BPS = 4.5
FEE = FEES_BPS / 1e4
CASH = 10_000.0
RTOL = 1e-9


def _signals(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    signals = get_strategy("ma_cross").signals(bars, fast=10, slow=20)
    return signals.entries, signals.exits


def _exit_fee_of_open_trade(result) -> float:
    last = result.trades.iloc[-1]
    return last["size"] * last["exit_price"] * FEE if last["exit_reason"] == "end" else 0.0


def _fees_by_fill_bar(result, n: int) -> np.ndarray:
    """Fee paid on each bar: entry fee on the entry bar, exit fee on the exit bar."""
    fees = np.zeros(n)
    trades = result.trades
    np.add.at(fees, trades["entry_bar"], trades["size"] * trades["entry_price"] * FEE)
    np.add.at(fees, trades["exit_bar"], trades["size"] * trades["exit_price"] * FEE)
    return fees


def _closed(result) -> pd.DataFrame:
    return result.trades[result.trades["exit_reason"] != "end"].reset_index(drop=True)


@pytest.mark.parametrize("fill", ["next_open", "close"])
def test_same_trades_and_equity_as_backtesting_py(real_bars: pd.DataFrame, fill: str) -> None:
    lib = pytest.importorskip("backtesting.lib")
    from backtesting import Strategy

    entries, exits = _signals(real_bars)

    class Replay(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            if self.position and exits[i]:
                self.position.close()
            elif not self.position and entries[i] and not exits[i]:
                self.buy(size=0.9999)

    bt = lib.FractionalBacktest(
        to_backtesting_py(real_bars),
        Replay,
        cash=CASH,
        commission=FEE,
        trade_on_close=fill == "close",
        finalize_trades=False,
        fractional_unit=1e-10,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = bt.run()
    ours = from_signals(real_bars, entries, exits, fill=fill, fees_bps=FEES_BPS, size=0.9999)
    trades = theirs["_trades"]
    closed = _closed(ours)
    assert len(closed) == len(trades) > 20
    np.testing.assert_array_equal(closed["entry_bar"], trades["EntryBar"])
    np.testing.assert_array_equal(closed["exit_bar"], trades["ExitBar"])
    np.testing.assert_allclose(closed["entry_price"], trades["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["exit_price"], trades["ExitPrice"], rtol=1e-12)
    np.testing.assert_allclose(closed["size"], trades["Size"], rtol=1e-9)
    np.testing.assert_allclose(closed["pnl"], trades["PnL"], rtol=1e-6, atol=1e-6)
    curve = theirs["_equity_curve"]["Equity"].to_numpy()
    equity = ours.equity.to_numpy()
    if fill == "close":
        equity = equity + _fees_by_fill_bar(ours, len(equity))
    np.testing.assert_allclose(equity[:-1], curve[:-1], rtol=RTOL)
    final = ours.equity.iloc[-1] + _exit_fee_of_open_trade(ours)
    assert final == pytest.approx(theirs["Equity Final [$]"], rel=RTOL)


@pytest.mark.parametrize("fill", ["next_open", "close"])
def test_same_trades_and_equity_as_vectorbt(real_bars: pd.DataFrame, fill: str) -> None:
    vbt = pytest.importorskip("vectorbt")
    entries, exits = _signals(real_bars)
    data = to_vectorbt(real_bars)
    if fill == "next_open":  # vectorbt fills at `price` on the signal's bar: shift one bar
        prices, e, x = data["Open"], np.r_[False, entries[:-1]], np.r_[False, exits[:-1]]
    else:
        prices, e, x = data["Close"], entries, exits
    pf = vbt.Portfolio.from_signals(
        data["Close"],
        e,
        x,
        price=prices,
        fees=FEE,
        init_cash=CASH,
        size=np.inf,
        freq=_bar(real_bars),
    )
    ours = from_signals(real_bars, entries, exits, fill=fill, fees_bps=FEES_BPS, size=1.0)
    records = pf.trades.records
    theirs_closed = records[records["status"] == 1]
    closed = _closed(ours)
    assert len(closed) == len(theirs_closed) > 20
    np.testing.assert_array_equal(closed["entry_bar"], theirs_closed["entry_idx"])
    np.testing.assert_array_equal(closed["exit_bar"], theirs_closed["exit_idx"])
    np.testing.assert_allclose(closed["entry_price"], theirs_closed["entry_price"], rtol=1e-12)
    np.testing.assert_allclose(closed["exit_price"], theirs_closed["exit_price"], rtol=1e-12)
    np.testing.assert_allclose(closed["size"], theirs_closed["size"], rtol=RTOL)
    np.testing.assert_allclose(closed["pnl"], theirs_closed["pnl"], rtol=RTOL)
    np.testing.assert_allclose(
        closed["fees"], theirs_closed["entry_fees"] + theirs_closed["exit_fees"], rtol=RTOL
    )
    value = pf.value().to_numpy()
    np.testing.assert_allclose(ours.equity.to_numpy()[:-1], value[:-1], rtol=RTOL)
    final = ours.equity.iloc[-1] + _exit_fee_of_open_trade(ours)
    assert final == pytest.approx(value[-1], rel=RTOL)


def _bar(bars: pd.DataFrame) -> pd.Timedelta:
    return pd.Series(bars.index).diff().mode()[0]


def test_stats_equal_vectorbts_where_the_equity_curves_agree(eurusd: pd.DataFrame) -> None:
    """Sharpe, Sortino, max drawdown, total return, win rate and profit factor as vectorbt
    computes them (same annualisation: 365 days / bar). On EURUSD, whose last trade closes
    before the end (on GOOG a position is open at the end, and our last bar pays the exit fee
    vectorbt leaves out)."""
    vbt = pytest.importorskip("vectorbt")
    real_bars = eurusd
    entries, exits = _signals(real_bars)
    ours = from_signals(real_bars, entries, exits, fees_bps=FEES_BPS)
    assert ours.trades.exit_reason.iloc[-1] == "signal"
    data = to_vectorbt(real_bars)
    shift = np.r_[False, entries[:-1]], np.r_[False, exits[:-1]]
    pf = vbt.Portfolio.from_signals(
        data["Close"],
        *shift,
        price=data["Open"],
        fees=FEE,
        init_cash=CASH,
        size=np.inf,
        freq=_bar(real_bars),
    )
    stats = ours.stats
    assert stats["sharpe"] == pytest.approx(pf.sharpe_ratio(), rel=RTOL)
    assert stats["sortino"] == pytest.approx(pf.sortino_ratio(), rel=RTOL)
    assert stats["max_drawdown_pct"] == pytest.approx(-pf.max_drawdown() * 100, rel=RTOL)
    assert stats["total_return_pct"] == pytest.approx(pf.total_return() * 100, rel=RTOL)
    assert stats["win_rate_pct"] == pytest.approx(pf.trades.win_rate() * 100, rel=RTOL)
    assert stats["profit_factor"] == pytest.approx(pf.trades.profit_factor(), rel=RTOL)


def test_take_profit_and_stop_loss_exits_equal_backtesting_py(real_bars: pd.DataFrame) -> None:
    """backtesting.py also watches a bracket from its market fill's bar, fills a gapped stop
    at the open and, with both levels inside one bar, takes the stop first (our default)."""
    lib = pytest.importorskip("backtesting.lib")
    from backtesting import Strategy

    daily_stock = real_bars["close"].median() > 10  # GOOG daily, else EURUSD hourly
    tp, sl = (8.0, 4.0) if daily_stock else (0.5, 0.3)

    entries, exits = _signals(real_bars)
    opens = real_bars["open"].to_numpy() * 1e-10  # FractionalBacktest's scaled prices

    class Bracket(Strategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            if self.position and exits[i]:
                self.position.close()
            elif not self.position and entries[i] and not exits[i] and i + 1 < len(opens):
                fill = opens[i + 1]  # the harness peeks only to place levels around the fill
                self.buy(size=0.9999, tp=fill * (1 + tp / 100), sl=fill * (1 - sl / 100))

    bt = lib.FractionalBacktest(
        to_backtesting_py(real_bars),
        Bracket,
        cash=CASH,
        commission=FEE,
        finalize_trades=False,
        fractional_unit=1e-10,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = bt.run()
    ours = from_signals(
        real_bars, entries, exits, fees_bps=FEES_BPS, size=0.9999, tp_pct=tp, sl_pct=sl
    )
    trades, closed = theirs["_trades"], _closed(ours)
    assert set(closed.exit_reason) >= {"tp", "sl", "signal"}
    assert len(closed) == len(trades)
    np.testing.assert_array_equal(closed["entry_bar"], trades["EntryBar"])
    np.testing.assert_array_equal(closed["exit_bar"], trades["ExitBar"])
    np.testing.assert_allclose(closed["exit_price"], trades["ExitPrice"], rtol=1e-12)
    final = ours.equity.iloc[-1] + _exit_fee_of_open_trade(ours)
    assert final == pytest.approx(theirs["Equity Final [$]"], rel=RTOL)
