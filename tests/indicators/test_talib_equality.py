"""Every indicator TA-Lib has equals TA-Lib on real bars: 1e-9 relative, same NaN warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barlake import indicators as ind

talib = pytest.importorskip("talib")


def assert_matches_talib(ours: np.ndarray, theirs: np.ndarray) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.isfinite(theirs).sum() > len(theirs) // 2
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0, equal_nan=True)


def ohlcv(df: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(df[c].to_numpy() for c in ("high", "low", "close", "volume"))


@pytest.mark.parametrize("n", [2, 14, 50, 200])
def test_sma_and_ema_equal_talib(real_bars: pd.DataFrame, n: int) -> None:
    close = real_bars["close"].to_numpy()
    assert_matches_talib(ind.sma(close, n), talib.SMA(close, n))
    assert_matches_talib(ind.ema(close, n), talib.EMA(close, n))


@pytest.mark.parametrize("n", [2, 14, 30])
def test_rsi_equals_talib(real_bars: pd.DataFrame, n: int) -> None:
    close = real_bars["close"].to_numpy()
    assert_matches_talib(ind.rsi(close, n), talib.RSI(close, n))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 10, 16)])
def test_macd_equals_talib_including_late_fast_seed(
    real_bars: pd.DataFrame, fast: int, slow: int, signal: int
) -> None:
    close = real_bars["close"].to_numpy()
    for ours, theirs in zip(
        ind.macd(close, fast, slow, signal), talib.MACD(close, fast, slow, signal), strict=True
    ):
        assert_matches_talib(ours, theirs)


@pytest.mark.parametrize(("n", "k"), [(20, 2.0), (10, 1.5), (50, 3.0)])
def test_bbands_equal_talib_with_population_std(real_bars: pd.DataFrame, n: int, k: float) -> None:
    close = real_bars["close"].to_numpy()
    lower, middle, upper, z = ind.bbands(close, n, k)
    t_upper, t_middle, t_lower = talib.BBANDS(close, n, k, k, 0)
    for ours, theirs in ((lower, t_lower), (middle, t_middle), (upper, t_upper)):
        assert_matches_talib(ours, theirs)
    std = talib.STDDEV(close, n, 1.0)
    ok = std > 0
    np.testing.assert_allclose(z[ok], ((close - t_middle) / std)[ok], rtol=1e-7)


@pytest.mark.parametrize("n", [2, 14, 30])
def test_atr_and_natr_equal_talib(real_bars: pd.DataFrame, n: int) -> None:
    high, low, close, _ = ohlcv(real_bars)
    assert_matches_talib(ind.atr(high, low, close, n), talib.ATR(high, low, close, n))
    assert_matches_talib(ind.natr(high, low, close, n), talib.NATR(high, low, close, n))


def test_atr_of_one_bar_is_the_true_range_and_natr_stays_a_percentage(
    real_bars: pd.DataFrame,
) -> None:
    high, low, close, _ = ohlcv(real_bars)
    true_range = talib.TRANGE(high, low, close)
    assert_matches_talib(ind.atr(high, low, close, 1), true_range)
    # TA-Lib's NATR(1) returns the raw true range (it skips the % step); we keep the percentage.
    assert_matches_talib(ind.natr(high, low, close, 1), true_range / close * 100.0)


def test_obv_equals_talib(real_bars: pd.DataFrame) -> None:
    _, _, close, volume = ohlcv(real_bars)
    assert_matches_talib(ind.obv(close, volume), talib.OBV(close, volume))


@pytest.mark.parametrize(("k", "smooth_k", "d"), [(14, 3, 3), (5, 3, 3), (21, 1, 5)])
def test_stoch_equals_talib_slow_k_and_d(
    real_bars: pd.DataFrame, k: int, smooth_k: int, d: int
) -> None:
    high, low, close, _ = ohlcv(real_bars)
    theirs = talib.STOCH(high, low, close, k, smooth_k, 0, d, 0)
    for ours, their in zip(ind.stoch(high, low, close, k, smooth_k, d), theirs, strict=True):
        assert_matches_talib(ours, their)


def test_leading_nans_are_skipped_like_talib(eurusd: pd.DataFrame) -> None:
    close = eurusd["close"].to_numpy().copy()
    close[:7] = np.nan
    assert_matches_talib(ind.ema(close, 10), talib.EMA(close, 10))
    assert_matches_talib(ind.rsi(close, 14), talib.RSI(close, 14))
    for ours, theirs in zip(ind.macd(close), talib.MACD(close, 12, 26, 9), strict=True):
        assert_matches_talib(ours, theirs)


def test_indicator_of_an_indicator_lines_up_with_talib(eurusd: pd.DataFrame) -> None:
    close = eurusd["close"].to_numpy()
    inner = talib.RSI(close, 14)
    assert_matches_talib(ind.sma(ind.rsi(close, 14), 9), talib.SMA(inner, 9))
