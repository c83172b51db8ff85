"""The numpy/pandas API contract, parameter validation, spec parsing and `add` column names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barlake import indicators as ind
from barlake.errors import ConfigError


def test_numpy_in_gives_float64_numpy_out_even_for_integer_volume(eurusd: pd.DataFrame) -> None:
    close = eurusd["close"].to_numpy()
    volume = eurusd["volume"].to_numpy().astype(np.int64)
    out = ind.obv(close, volume)
    assert type(out) is np.ndarray
    assert out.dtype == np.float64
    assert out.shape == close.shape


def test_series_in_gives_series_on_the_same_index_named_like_add(eurusd: pd.DataFrame) -> None:
    lower, middle, upper, z = ind.bbands(eurusd["close"], 20, 2)
    assert [s.name for s in (lower, middle, upper, z)] == [
        "BBL_20_2.0",
        "BBM_20_2.0",
        "BBU_20_2.0",
        "BBZ_20_2.0",
    ]
    assert upper.index is eurusd.index or upper.index.equals(eurusd.index)
    macd_line, signal, hist = ind.macd(eurusd["close"])
    np.testing.assert_allclose(hist, macd_line - signal)
    assert ind.rsi(eurusd["close"]).name == "rsi14"


def test_inputs_shorter_than_the_warm_up_give_all_nan() -> None:
    short = np.array([1.0, 2.0, 3.0])
    assert np.isnan(ind.sma(short, 5)).all()
    assert np.isnan(ind.rsi(short, 3)).all()
    assert all(np.isnan(x).all() for x in ind.macd(short))
    assert all(np.isnan(x).all() for x in ind.stoch(short, short, short))
    assert ind.ema(np.array([]), 3).shape == (0,)
    assert np.isnan(ind.ema(np.full(10, np.nan), 3)).all()


def test_flat_prices_give_zero_rsi_and_zero_zscore_like_talib() -> None:
    flat = np.full(40, 1.5)
    assert (ind.rsi(flat, 14)[14:] == 0).all()
    assert (ind.bbands(flat, 20)[3][19:] == 0).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: ind.sma(x, 0), "n must be >= 1"),
        (lambda x: ind.ema(x, 2.5), "must be an integer"),
        (lambda x: ind.rsi(x, True), "must be an integer"),
        (lambda x: ind.macd(x, 26, 12), "fast < slow"),
        (lambda x: ind.bbands(x, 20, 0), "positive number"),
        (lambda x: ind.bbands(x, 20, float("nan")), "positive number"),
        (lambda x: ind.vwap(x, x, x, x), "exactly one of"),
        (lambda x: ind.vwap(x, x, x, x, window=3, anchor="D"), "exactly one of"),
        (lambda x: ind.vwap(x, x, x, x, anchor="M", times=np.arange(10)), "'D'"),
        (lambda x: ind.vwap(x, x, x, x, anchor="D"), "needs bar times"),
        (lambda x: ind.atr(x, x[:5], x), "differ in length"),
        (lambda x: ind.sma(x.reshape(2, 5), 2), "one-dimensional"),
        (lambda x: ind.stoch(x, x, x, k=0), "k must be >= 1"),
    ],
)
def test_bad_parameters_raise_a_clear_error(call, message: str) -> None:
    with pytest.raises(ind.ParameterError, match=message) as info:
        call(np.arange(10, dtype=float))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize(
    ("text", "family", "params"),
    [
        ("sma50", "sma", (50,)),
        ("SMA_50", "sma", (50,)),
        ("ema_21", "ema", (21,)),
        ("rsi", "rsi", (14,)),
        ("macd", "macd", (12, 26, 9)),
        ("MACD_5_35_5", "macd", (5, 35, 5)),
        ("bbands_20_2", "bbands", (20, 2.0)),
        ("bb_10_1.5", "bbands", (10, 1.5)),
        ("natr14", "natr", (14,)),
        ("atr7", "atr", (7,)),
        ("vwap96", "vwap", (96,)),
        ("vwapD", "vwap", ("D",)),
        ("vwap_w", "vwap", ("W",)),
        ("obv", "obv", ()),
        ("vortex14", "vortex", (14,)),
        ("stoch_14_3_3", "stoch", (14, 3, 3)),
        ({"macd": [8, 21]}, "macd", (8, 21, 9)),
        ({"bbands": {"k": 2.5}}, "bbands", (20, 2.5)),
        ({"rsi": 7}, "rsi", (7,)),
    ],
)
def test_spec_items_parse_in_every_spelling(text, family: str, params: tuple) -> None:
    assert ind.parse_item(text) == ind.Indicator(family, params)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo12", "unknown indicator"),
        ("sma_x", "must be a number"),
        ("sma_2.5", "whole number"),
        ("macd_1_2_3_4", "takes 3 parameters"),
        ("vwap", "needs a window or an anchor"),
        ({"macd": {"speed": 3}}, "unknown parameters"),
    ],
)
def test_bad_spec_items_say_what_is_wrong(text, message: str) -> None:
    with pytest.raises(ind.ParameterError, match=message):
        ind.parse_item(text)


def test_add_writes_the_original_brief_column_names(eurusd: pd.DataFrame) -> None:
    out = ind.add(eurusd, ind.DEFAULT_SPEC)
    expected = [
        "sma50",
        "ema21",
        "rsi14",
        "MACD_12_26_9",
        "MACDs_12_26_9",
        "MACDh_12_26_9",
        "BBL_20_2.0",
        "BBM_20_2.0",
        "BBU_20_2.0",
        "BBZ_20_2.0",
        "atr14",
        "natr14",
        "vwap96",
        "obv",
        "VTXP_14",
        "VTXM_14",
        "STOCHk_14_3_3",
        "STOCHd_14_3_3",
    ]
    assert list(out.columns) == [*eurusd.columns, *expected]
    assert "sma50" not in eurusd.columns  # the input frame is left alone
    np.testing.assert_array_equal(out["rsi14"], ind.rsi(eurusd["close"].to_numpy(), 14))


def test_add_with_aliases_writes_pandas_ta_and_short_names(eurusd: pd.DataFrame) -> None:
    out = ind.add(eurusd, ["sma50", "macd", "bbands", "atr14", "vwap_D"], aliases=True)
    for alias, column in [
        ("SMA_50", "sma50"),
        ("ATRr_14", "atr14"),
        ("VWAP_D", "vwap_D"),
        ("macd", "MACD_12_26_9"),
        ("macd_hist", "MACDh_12_26_9"),
        ("bb_z", "BBZ_20_2.0"),
    ]:
        pd.testing.assert_series_equal(out[alias], out[column], check_names=False)


def test_add_reads_a_yaml_spec_and_capitalised_columns(
    tmp_path: Path, eurusd: pd.DataFrame
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("indicators:\n  - sma50\n  - macd: [12, 26, 9]\n  - vwap_D\n")
    capitalised = eurusd.rename(columns=str.capitalize)
    out = ind.add(capitalised, spec)
    assert list(out.columns[5:]) == [
        "sma50",
        "MACD_12_26_9",
        "MACDs_12_26_9",
        "MACDh_12_26_9",
        "vwap_D",
    ]
    assert ind.parse_spec(str(spec)) == ind.parse_spec(["sma50", "macd", "vwapD"])


def test_add_names_the_missing_column() -> None:
    frame = pd.DataFrame({"close": np.arange(30.0)})
    with pytest.raises(ind.ParameterError, match="needs a 'volume' column"):
        ind.add(frame, ["obv"])
