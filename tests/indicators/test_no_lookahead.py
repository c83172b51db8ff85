"""No look-ahead: appending bars never changes an output already computed (bit for bit).

EMA-family values (EMA, MACD, RSI, ATR) do depend on where the series *starts* — they are
seeded by a mean of the first bars — which is the documented warm-up dependence; appending is
what a live feed does, and that must leave history alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from barlake import indicators as ind

SPEC = [*ind.DEFAULT_SPEC, "vwap_D", "vwap_W", "sma1", "ema2", "rsi2", "bbands_5_1", "vwap1"]
steps = st.one_of(st.floats(-0.03, 0.03, allow_nan=False), st.just(0.0))


@st.composite
def bars_and_cut(draw: st.DrawFn) -> tuple[pd.DataFrame, int]:
    returns = draw(st.lists(steps, min_size=2, max_size=160))
    wicks = draw(st.lists(st.floats(0, 0.02), min_size=len(returns), max_size=len(returns)))
    volume = draw(
        st.lists(
            st.sampled_from([0.0, 1.0, 7.5, 1e6]), min_size=len(returns), max_size=len(returns)
        )
    )
    close = 100 * np.exp(np.cumsum(returns))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.asarray(wicks) * close
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + wick,
            "low": np.minimum(open_, close) - wick,
            "close": close,
            "volume": volume,
        },
        index=pd.date_range("2024-01-05", periods=len(close), freq="7h", tz="UTC", name="time"),
    )
    return frame, draw(st.integers(1, len(close) - 1))


@settings(max_examples=50, deadline=None)
@given(bars_and_cut())
def test_appending_bars_never_changes_earlier_outputs(case: tuple[pd.DataFrame, int]) -> None:
    frame, cut = case
    indicators = ind.parse_spec(SPEC)
    full = ind.compute(frame, indicators)
    prefix = ind.compute(frame.iloc[:cut], indicators)
    for name, values in prefix.items():
        np.testing.assert_array_equal(values, full[name][:cut], err_msg=name)


@settings(max_examples=50, deadline=None)
@given(bars_and_cut())
def test_outputs_are_nan_exactly_during_the_documented_warm_up(
    case: tuple[pd.DataFrame, int],
) -> None:
    frame, _ = case
    for indicator in ind.parse_spec(["sma50", "ema21", "macd", "bbands_20_2", "atr14", "obv"]):
        for name, values in ind.compute(frame, [indicator]).items():
            warm = min(indicator.warmup, len(frame))
            assert np.isnan(values[:warm]).all(), name
            assert not np.isnan(values[warm:]).any(), name


def test_ema_depends_on_where_the_series_starts_but_converges() -> None:
    close = 100 + np.cumsum(np.random.default_rng(7).normal(size=2_000))
    whole = ind.ema(close, 21)
    later = ind.ema(close[100:], 21)
    assert whole[150] != later[50]  # seeded by a different first window
    np.testing.assert_allclose(whole[-100:], later[-100:], rtol=1e-12)
