"""Stats against an independent pandas computation, no look-ahead, sweeps equal single runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barlake.backtest import STAT_KEYS, from_signals, sweep
from barlake.strategies import get_strategy

HOURS_PER_YEAR = 365 * 24


def _reference_stats(result, bars: pd.DataFrame) -> dict[str, float]:
    """The stats from `equity` and `trades` alone, written the plain pandas way."""
    init = result.settings.init_cash
    equity = result.equity
    returns = equity / equity.shift(1, fill_value=init) - 1
    years = ((bars.index[-1] - bars.index[0]) + pd.Timedelta(hours=1)) / pd.Timedelta(days=365)
    growth = equity.iloc[-1] / init
    peak = np.maximum.accumulate(np.r_[init, equity.to_numpy()])[1:]
    max_dd = (1 - equity.to_numpy() / peak).max()
    trades = result.trades
    wins, losses = trades.pnl[trades.pnl > 0], trades.pnl[trades.pnl <= 0]
    held = np.zeros(len(bars), dtype=bool)  # bars a position was open after the open's fills
    for t in trades.itertuples():
        held[t.entry_bar : t.exit_bar + (t.exit_reason in ("tp", "sl", "end"))] = True
    cagr = growth ** (1 / years) - 1
    return {
        "total_return_pct": (growth - 1) * 100,
        "cagr_pct": cagr * 100,
        "sharpe": returns.mean() / returns.std(ddof=1) * math.sqrt(HOURS_PER_YEAR),
        "sortino": returns.mean()
        / math.sqrt((returns.clip(upper=0) ** 2).mean())
        * math.sqrt(HOURS_PER_YEAR),
        "max_drawdown_pct": max_dd * 100,
        "calmar": cagr / max_dd,
        "win_rate_pct": len(wins) / len(trades) * 100,
        "profit_factor": wins.sum() / -losses.sum(),
        "trades": len(trades),
        "exposure_pct": held.mean() * 100,
        "avg_trade_pct": trades.return_pct.mean(),
        "avg_trade_pnl": trades.pnl.mean(),
        "fees_paid": trades.fees.sum(),
        "final_equity": equity.iloc[-1],
    }


@pytest.mark.parametrize(
    "options", [{}, {"tp_pct": 3.0, "sl_pct": 2.0}, {"direction": "both", "fees_bps": 10.0}]
)
def test_stats_equal_a_pandas_computation_from_equity_and_trades(walk_bars, options):
    signals = get_strategy("ma_cross").signals(walk_bars, fast=5, slow=30)
    result = from_signals(walk_bars, signals.entries, signals.exits, **options)
    assert list(result.stats) == list(STAT_KEYS)
    assert result.stats["trades"] > 20
    expected = _reference_stats(result, walk_bars)
    for key in STAT_KEYS:
        assert result.stats[key] == pytest.approx(expected[key], rel=1e-9), key


def test_equity_and_drawdown_live_on_the_bars_own_index(walk_bars):
    signals = get_strategy("ma_cross").signals(walk_bars)
    result = from_signals(walk_bars, signals.entries, signals.exits)
    assert result.equity.index is walk_bars.index and str(result.equity.index.tz) == "UTC"
    assert result.drawdown.max() == pytest.approx(result.stats["max_drawdown_pct"])
    assert str(result.trades.entry_time.dt.tz) == "UTC"


OPTION_SETS = [
    {},
    {"fill": "close"},
    {"tp_pct": 1.5, "sl_pct": 1.0, "intrabar": "ohlc_path"},
    {"direction": "both", "sl_pct": 2.0},
    {"mode": "grid", "size": 0.3, "grid_step_pct": 0.5, "tp_pct": 1.0},
    {"mode": "martingale", "size": 0.1},
    {"kelly": 0.5, "kelly_min_trades": 3},
    {"max_drawdown_pct": 3.0},
    {"sizing": "risk", "size": 0.02, "atr_n": 5},
]


@st.composite
def market(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int, dict]:
    n = draw(st.integers(10, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.003, n))
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.random(n) * 0.01),
            "low": np.minimum(open_, close) * (1 - rng.random(n) * 0.01),
            "close": close,
        },
        index=pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
    )
    entries, exits = rng.random(n) < 0.15, rng.random(n) < 0.1
    return frame, entries, exits, draw(st.integers(3, n - 1)), draw(st.sampled_from(OPTION_SETS))


@settings(max_examples=80, deadline=None)
@given(market())
def test_cutting_the_data_never_changes_trades_closed_before_the_cut(case) -> None:
    frame, entries, exits, cut, options = case
    full = from_signals(frame, entries, exits, **options)
    part = from_signals(frame.iloc[:cut], entries[:cut], exits[:cut], **options)
    keep_full = full.trades[full.trades.exit_bar < cut - 1].reset_index(drop=True)
    keep_part = part.trades[part.trades.exit_bar < cut - 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(keep_part, keep_full)
    np.testing.assert_array_equal(
        part.equity.to_numpy()[: cut - 1], full.equity.to_numpy()[: cut - 1]
    )


def test_a_sweep_reports_exactly_what_single_runs_report(walk_bars):
    strategy = get_strategy("ma_cross")
    sets = [
        {"fast": 5, "slow": 20},
        {"fast": 10, "slow": 50, "kind": "ema"},
        {"fast": 20, "slow": 30},
    ]
    table = sweep(walk_bars, strategy, sets, workers=2, tp_pct=2.0, fees_bps=3.0)
    assert list(table.fast) == [5, 10, 20] and list(table.kind) == ["sma", "ema", "sma"]
    for row, params in zip(table.to_dict("records"), sets, strict=True):
        signals = strategy.signals(walk_bars, **params)
        single = from_signals(walk_bars, signals.entries, signals.exits, tp_pct=2.0, fees_bps=3.0)
        for key in STAT_KEYS:
            np.testing.assert_equal(row[key], single.stats[key], err_msg=key)


def test_a_sweep_without_sets_runs_the_declared_grid_under_its_constraints(walk_bars):
    table = sweep(walk_bars.iloc[:400], get_strategy("range_breakout"))
    assert len(table) > 100 and (table.exit_n <= table.n).all()
    assert table.trades.sum() > 0
