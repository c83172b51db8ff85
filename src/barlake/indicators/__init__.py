"""Technical indicators: numba kernels equal to TA-Lib, a numpy/pandas API, and `add(df, spec)`."""

from barlake.indicators.api import (
    ParameterError,
    atr,
    bbands,
    ema,
    macd,
    natr,
    obv,
    rsi,
    sma,
    stoch,
    vortex,
    vwap,
)
from barlake.indicators.spec import (
    DEFAULT_SPEC,
    Indicator,
    add,
    alias_map,
    compute,
    load_spec,
    parse_item,
    parse_spec,
)

__all__ = [
    "DEFAULT_SPEC",
    "Indicator",
    "ParameterError",
    "add",
    "alias_map",
    "atr",
    "bbands",
    "compute",
    "ema",
    "load_spec",
    "macd",
    "natr",
    "obv",
    "parse_item",
    "parse_spec",
    "rsi",
    "sma",
    "stoch",
    "vortex",
    "vwap",
]
