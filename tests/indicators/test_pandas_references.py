"""VWAP and Vortex (no TA-Lib twin) against plain pandas written the obvious way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barlake import indicators as ind


def typical_price_volume(df: pd.DataFrame) -> pd.Series:
    return (df["high"] + df["low"] + df["close"]) / 3 * df["volume"]


@pytest.mark.parametrize("window", [1, 24, 96])
def test_rolling_vwap_equals_pandas_rolling_sums(real_bars: pd.DataFrame, window: int) -> None:
    expected = (
        typical_price_volume(real_bars).rolling(window).sum()
        / real_bars["volume"].rolling(window).sum()
    )
    got = ind.vwap(*(real_bars[c] for c in ("high", "low", "close", "volume")), window=window)
    assert got.name == f"vwap{window}"
    pd.testing.assert_index_equal(got.index, real_bars.index)
    np.testing.assert_array_equal(got.isna(), expected.isna())
    np.testing.assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize(("anchor", "freq"), [("D", "D"), ("W", "W-SUN")])
def test_anchored_vwap_equals_pandas_groupby_cumsum(
    eurusd: pd.DataFrame, anchor: str, freq: str
) -> None:
    period = eurusd.index.tz_localize(None).to_period(freq)
    expected = (
        typical_price_volume(eurusd).groupby(period).cumsum()
        / eurusd["volume"].groupby(period).cumsum()
    )
    got = ind.vwap(*(eurusd[c] for c in ("high", "low", "close", "volume")), anchor=anchor)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.notna().all()


def test_anchored_vwap_restarts_at_monday_midnight_utc() -> None:
    times = pd.date_range("2024-01-06 22:00", periods=6, freq="h", tz="UTC")  # Sat 22:00 ..
    price = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=times)
    volume = pd.Series(1.0, index=times)
    daily = ind.vwap(price, price, price, volume, anchor="D")
    weekly = ind.vwap(price, price, price, volume, anchor="W")
    np.testing.assert_allclose(daily, [1.0, 1.5, 3.0, 3.5, 4.0, 4.5])  # new day at Sun 00:00
    np.testing.assert_allclose(weekly, [1.0, 1.5, 2.0, 2.5, 3.0, 3.5])  # Mon 00:00 is later
    monday = pd.date_range("2024-01-07 23:00", periods=2, freq="h", tz="UTC")
    crossing = ind.vwap(*[pd.Series([1.0, 9.0], index=monday)] * 4, anchor="W")
    np.testing.assert_allclose(crossing, [1.0, 9.0])


def test_anchored_vwap_on_numpy_takes_epoch_millisecond_times() -> None:
    ms = np.array([0, 3_600_000, 86_400_000], dtype=np.int64)
    price = np.array([1.0, 3.0, 10.0])
    volume = np.ones(3)
    np.testing.assert_allclose(
        ind.vwap(price, price, price, volume, anchor="D", times=ms), [1.0, 2.0, 10.0]
    )


def test_vwap_is_nan_while_window_volume_is_zero() -> None:
    price = np.array([1.0, 2.0, 3.0, 4.0])
    volume = np.array([0.0, 0.0, 0.0, 2.0])
    out = ind.vwap(price, price, price, volume, window=2)
    np.testing.assert_array_equal(np.isnan(out), [True, True, True, False])


@pytest.mark.parametrize("n", [1, 14, 30])
def test_vortex_equals_pandas_reference(real_bars: pd.DataFrame, n: int) -> None:
    high, low, close = real_bars["high"], real_bars["low"], real_bars["close"]
    prev_close = close.shift()
    true_range = pd.concat(
        [high - low, (high - prev_close).abs(), (low - prev_close).abs()], axis=1
    ).max(axis=1, skipna=False)
    tr_sum = true_range.rolling(n).sum().replace(0.0, np.nan)  # flat windows: undefined
    expected_plus = (high - low.shift()).abs().rolling(n).sum() / tr_sum
    expected_minus = (low - high.shift()).abs().rolling(n).sum() / tr_sum
    plus, minus = ind.vortex(high, low, close, n)
    assert (plus.name, minus.name) == (f"VTXP_{n}", f"VTXM_{n}")
    for got, expected in ((plus, expected_plus), (minus, expected_minus)):
        np.testing.assert_array_equal(got.isna(), expected.isna())
        np.testing.assert_allclose(got, expected, rtol=1e-9)
