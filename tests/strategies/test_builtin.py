"""The five strategies against plain pandas definitions, their parameter spaces, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barlake import indicators as ta
from barlake.errors import ConfigError
from barlake.strategies import STRATEGIES, get_strategy


def _crosses(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    diff, prev = a - b, (a - b).shift()
    return ((diff > 0) & (prev <= 0)).to_numpy(), ((diff < 0) & (prev >= 0)).to_numpy()


def _reference(name: str, bars: pd.DataFrame, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each strategy written the way a pandas user would, from its docstring."""
    close = bars["close"]
    if name == "ma_cross":
        return _crosses(close.rolling(p["fast"]).mean(), close.rolling(p["slow"]).mean())
    if name == "rsi_reversion":
        rsi = ta.rsi(close, p["n"])
        return (rsi < p["lower"]).to_numpy(), (rsi > p["upper"]).to_numpy()
    if name == "bollinger_breakout":
        middle = close.rolling(p["n"]).mean()
        upper = middle + p["k"] * close.rolling(p["n"]).std(ddof=0)
        return _crosses(close, upper)[0], _crosses(close, middle)[1]
    if name == "stochastic":
        k, d = ta.stoch(bars["high"], bars["low"], close, p["k"], p["smooth_k"], p["d"])
        up, down = _crosses(k, d)
        return up & (k < p["lower"]).to_numpy(), down & (k > p["upper"]).to_numpy()
    high = bars["high"].rolling(p["n"]).max().shift()
    low = bars["low"].rolling(p["exit_n"]).min().shift()
    return (close > high).to_numpy(), (close < low).to_numpy()


PARAMS = {
    "ma_cross": [{"fast": 10, "slow": 50}, {"fast": 3, "slow": 7}],
    "rsi_reversion": [{"n": 14, "lower": 30, "upper": 70}, {"n": 4, "lower": 20, "upper": 85}],
    "bollinger_breakout": [{"n": 20, "k": 2.0}, {"n": 10, "k": 1.0}],
    "stochastic": [
        {"k": 14, "smooth_k": 3, "d": 3, "lower": 20, "upper": 80},
        {"k": 5, "smooth_k": 2, "d": 2, "lower": 40, "upper": 60},
    ],
    "range_breakout": [{"n": 20, "exit_n": 10}, {"n": 5, "exit_n": 5}],
}


@pytest.mark.parametrize(("name", "params"), [(n, p) for n, sets in PARAMS.items() for p in sets])
def test_signals_equal_the_pandas_definition(hourly, name, params):
    signals = get_strategy(name).signals(hourly, **params)
    entries, exits = _reference(name, hourly, get_strategy(name).resolve(params))
    assert signals.entries.dtype == np.bool_ and signals.entries.shape == (len(hourly),)
    assert entries.sum() > 3 and exits.sum() > 3
    np.testing.assert_array_equal(signals.entries, entries)
    np.testing.assert_array_equal(signals.exits, exits)


def test_ema_cross_uses_exponential_averages(hourly):
    signals = get_strategy("ma_cross").signals(hourly, fast=5, slow=20, kind="ema")
    np.testing.assert_array_equal(
        signals.entries, _crosses(ta.ema(hourly["close"], 5), ta.ema(hourly["close"], 20))[0]
    )


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_signals_on_a_prefix_equal_the_prefix_of_signals(hourly, name):
    strategy = get_strategy(name)
    full = strategy.signals(hourly)
    for cut in (60, 333, 1_000):
        part = strategy.signals(hourly.iloc[:cut])
        np.testing.assert_array_equal(part.entries, full.entries[:cut])
        np.testing.assert_array_equal(part.exits, full.exits[:cut])


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_space_declares_valid_defaults_and_a_grid_inside_its_bounds(name):
    strategy = get_strategy(name)
    assert strategy.resolve() == strategy.defaults
    for param in strategy.params:
        assert param.help and (param.choices or param.low <= param.default <= param.high)
        values = param.values()
        assert param.default in values  # the optimizer's grid holds the default
        assert values and (
            param.kind == "choice" or (min(values) >= param.low and max(values) <= param.high)
        )
    first = next(strategy.grid())
    assert strategy.violated(first) is None


def test_params_are_converted_from_cli_text_and_checked():
    ma = get_strategy("ma_cross")
    assert ma.resolve({"fast": "5", "slow": "30.0", "kind": "ema"}) == {
        "fast": 5,
        "slow": 30,
        "kind": "ema",
    }
    for bad in (
        {"fast": "5.5"},
        {"fast": "x"},
        {"fast": 1},
        {"kind": "wma"},
        {"fast": 60, "slow": 50},
        {"speed": 3},
        {"fast": True},
    ):
        with pytest.raises(ConfigError):
            ma.resolve(bad)


def test_the_ma_grid_of_the_benchmark_has_174_pairs_all_fast_below_slow():
    grid = list(
        get_strategy("ma_cross").grid(fast=range(5, 55, 5), slow=range(20, 210, 10), kind=["sma"])
    )
    assert len(grid) == 174 and all(p["fast"] < p["slow"] for p in grid)


def test_an_unknown_strategy_names_the_known_ones():
    with pytest.raises(ConfigError, match="ma_cross"):
        get_strategy("turtle")
