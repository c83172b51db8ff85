"""Indicator specs: `["sma50", "macd_12_26_9", ...]` (or the same list in YAML) → named columns.

One table, `FAMILIES`, says for each indicator its parameters, its columns, its pandas-ta aliases
and its warm-up, so `add`, the scanner and the CLI agree on every name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from barlake.bars.frame import ohlcv_arrays
from barlake.indicators import api
from barlake.indicators.api import ParameterError

# The full set of the original brief; `barlake analyze`, `indicators` and `scan` default to it.
DEFAULT_SPEC: tuple[str, ...] = (
    "sma50",
    "ema21",
    "rsi14",
    "macd_12_26_9",
    "bbands_20_2",
    "atr14",
    "natr14",
    "vwap96",
    "obv",
    "vortex14",
    "stoch_14_3_3",
)

Frame = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Family:
    """One indicator family: parameter names and defaults, how to compute and name its outputs."""

    params: tuple[str, ...]
    defaults: tuple[Any, ...]
    compute: Callable[[Frame, tuple], tuple]
    columns: Callable[[tuple], tuple[str, ...]]
    warmup: Callable[[tuple], int]
    short: tuple[str, ...] = ()  # unparameterised names for the first of a multi-output family


def _one(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _tag(p: tuple) -> str:
    return "_".join(str(v) for v in p)


FAMILIES: dict[str, Family] = {
    "sma": Family(
        ("n",),
        (20,),
        lambda f, p: _one(api.sma(f["close"], *p)),
        lambda p: (f"sma{p[0]}",),
        lambda p: p[0] - 1,
    ),
    "ema": Family(
        ("n",),
        (20,),
        lambda f, p: _one(api.ema(f["close"], *p)),
        lambda p: (f"ema{p[0]}",),
        lambda p: p[0] - 1,
    ),
    "rsi": Family(
        ("n",),
        (14,),
        lambda f, p: _one(api.rsi(f["close"], *p)),
        lambda p: (f"rsi{p[0]}",),
        lambda p: p[0],
    ),
    "macd": Family(
        ("fast", "slow", "signal"),
        (12, 26, 9),
        lambda f, p: api.macd(f["close"], *p),
        lambda p: (f"MACD_{_tag(p)}", f"MACDs_{_tag(p)}", f"MACDh_{_tag(p)}"),
        lambda p: p[1] + p[2] - 2,
        ("macd", "macd_signal", "macd_hist"),
    ),
    "bbands": Family(
        ("n", "k"),
        (20, 2.0),
        lambda f, p: api.bbands(f["close"], *p),
        lambda p: tuple(f"BB{c}_{p[0]}_{float(p[1])}" for c in "LMUZ"),
        lambda p: p[0] - 1,
        ("bb_lower", "bb_middle", "bb_upper", "bb_z"),
    ),
    "atr": Family(
        ("n",),
        (14,),
        lambda f, p: _one(api.atr(f["high"], f["low"], f["close"], *p)),
        lambda p: (f"atr{p[0]}",),
        lambda p: p[0],
    ),
    "natr": Family(
        ("n",),
        (14,),
        lambda f, p: _one(api.natr(f["high"], f["low"], f["close"], *p)),
        lambda p: (f"natr{p[0]}",),
        lambda p: p[0],
    ),
    "vwap": Family(
        ("window",),
        (None,),
        lambda f, p: _one(_vwap(f, p[0])),
        lambda p: (f"vwap{p[0]}" if isinstance(p[0], int) else f"vwap_{p[0]}",),
        lambda p: p[0] - 1 if isinstance(p[0], int) else 0,
    ),
    "obv": Family(
        (),
        (),
        lambda f, p: _one(api.obv(f["close"], f["volume"])),
        lambda p: ("obv",),
        lambda p: 0,
    ),
    "vortex": Family(
        ("n",),
        (14,),
        lambda f, p: api.vortex(f["high"], f["low"], f["close"], *p),
        lambda p: (f"VTXP_{p[0]}", f"VTXM_{p[0]}"),
        lambda p: p[0],
        ("vi_plus", "vi_minus"),
    ),
    "stoch": Family(
        ("k", "smooth_k", "d"),
        (14, 3, 3),
        lambda f, p: api.stoch(f["high"], f["low"], f["close"], *p),
        lambda p: (f"STOCHk_{_tag(p)}", f"STOCHd_{_tag(p)}"),
        lambda p: sum(p) - 3,
        ("stoch_k", "stoch_d"),
    ),
}
# Other spellings people type for the same families (pandas-ta and common short forms).
_SYNONYMS = {"bb": "bbands", "vtx": "vortex", "vi": "vortex"}
_PANDAS_TA = {
    "sma": "SMA_{}",
    "ema": "EMA_{}",
    "rsi": "RSI_{}",
    "atr": "ATRr_{}",
    "natr": "NATR_{}",
}


def _vwap(frame: Frame, window: Any) -> np.ndarray:
    h, low, c, v = (frame[k] for k in ("high", "low", "close", "volume"))
    if isinstance(window, int):
        return api.vwap(h, low, c, v, window=window)
    return api.vwap(h, low, c, v, anchor=window, times=frame["_times"])


@dataclass(frozen=True)
class Indicator:
    """One parsed spec item, e.g. `Indicator("macd", (12, 26, 9))`."""

    family: str
    params: tuple

    @property
    def columns(self) -> tuple[str, ...]:
        """The primary column names `add` writes, in the function's output order."""
        return FAMILIES[self.family].columns(self.params)

    @property
    def warmup(self) -> int:
        """Bars before the first non-NaN value (with no NaNs in the input)."""
        return FAMILIES[self.family].warmup(self.params)

    def aliases(self) -> dict[str, str]:
        """pandas-ta names of single-output indicators (`SMA_50` → `sma50`), `OBV`, `VWAP_D`."""
        column = self.columns[0]
        if self.family in _PANDAS_TA:
            return {_PANDAS_TA[self.family].format(self.params[0]): column}
        if self.family == "obv":
            return {"OBV": column}
        if self.family == "vwap" and not isinstance(self.params[0], int):
            return {f"VWAP_{self.params[0]}": column}
        return {}


def _convert(family: str, name: str, raw: Any) -> Any:
    """Parameter text → int (periods) or float (bbands k); vwap also takes an anchor D or W."""
    text = str(raw).strip()
    if family == "vwap" and text.upper() in ("D", "W"):
        return text.upper()
    try:
        if name == "k" and family == "bbands":
            return float(text)
        number = float(text)
    except ValueError:
        raise ParameterError(f"{family}: {name} must be a number, got {raw!r}") from None
    if number != int(number):
        raise ParameterError(f"{family}: {name} must be a whole number, got {raw!r}")
    return int(number)


def _family_of(text: str) -> tuple[str, str]:
    """Split 'macd_12_26_9' into ('macd', '12_26_9'); longest family name wins."""
    lowered = text.strip().lower()
    names = sorted([*FAMILIES, *_SYNONYMS], key=len, reverse=True)
    for name in names:
        if lowered.startswith(name):
            rest = text.strip()[len(name) :].lstrip("_")
            return _SYNONYMS.get(name, name), rest
    known = ", ".join(sorted(FAMILIES))
    raise ParameterError(f"unknown indicator {text!r}: use one of {known} (e.g. sma50, macd)")


def parse_item(item: str | Mapping[str, Any]) -> Indicator:
    """One spec item: 'sma50', 'SMA_50', 'bbands_20_2', 'vwap_D', or YAML {'macd': [12, 26, 9]}
    / {'bbands': {'n': 20, 'k': 2}}; missing parameters take the family's defaults."""
    if isinstance(item, Mapping):
        if len(item) != 1:
            raise ParameterError(f"a spec mapping names one indicator, got {dict(item)!r}")
        ((name, raw),) = item.items()
        family, _ = _family_of(str(name))
        spec = FAMILIES[family]
        if isinstance(raw, Mapping):
            unknown = set(raw) - set(spec.params)
            if unknown:
                raise ParameterError(f"{family}: unknown parameters {sorted(unknown)}")
            values = [raw.get(p, d) for p, d in zip(spec.params, spec.defaults, strict=True)]
        else:
            values = list(raw) if isinstance(raw, list | tuple) else [] if raw is None else [raw]
    else:
        family, rest = _family_of(str(item))
        spec = FAMILIES[family]
        values = [v for v in rest.split("_") if v] if rest else []
    if len(values) > len(spec.params):
        raise ParameterError(f"{family} takes {len(spec.params)} parameters, got {values!r}")
    values += list(spec.defaults[len(values) :])
    if family == "vwap" and values[0] is None:
        raise ParameterError("vwap needs a window or an anchor: vwap96, vwap_D or vwap_W")
    params = tuple(_convert(family, n, v) for n, v in zip(spec.params, values, strict=True))
    return Indicator(family, params)


def load_spec(path: str | Path) -> list[str | dict]:
    """Read a YAML spec: a list of items, or a mapping with an `indicators:` list."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"cannot read indicator spec {path}: {exc}") from exc
    if isinstance(data, Mapping):
        data = data.get("indicators")
    if not isinstance(data, list):
        raise ParameterError(f"{path}: expected a list of indicators (or `indicators: [...]`)")
    return data


def parse_spec(spec: str | Path | Iterable[str | Mapping[str, Any]] | None) -> list[Indicator]:
    """A list of items, a comma/space separated string, or a YAML path; None is DEFAULT_SPEC."""
    if spec is None:
        items: Iterable = DEFAULT_SPEC
    elif isinstance(spec, Path) or (isinstance(spec, str) and spec.endswith((".yaml", ".yml"))):
        items = load_spec(spec)
    elif isinstance(spec, str):
        items = spec.replace(",", " ").split()
    else:
        items = spec
    parsed = [parse_item(item) for item in items]
    return list(dict.fromkeys(parsed))  # drop repeats, keep order


def _frame_arrays(df: pd.DataFrame) -> dict[str, Any]:
    """OHLCV as float64 arrays by lower-case name (so `Close` from backtesting.py works too)."""
    times = df.index if isinstance(df.index, pd.DatetimeIndex) else None
    return {"_times": times, **ohlcv_arrays(df)}


def compute(df: pd.DataFrame, indicators: Sequence[Indicator]) -> dict[str, np.ndarray]:
    """All requested columns as numpy arrays by primary name; the scanner uses this directly."""
    arrays = _frame_arrays(df)
    out: dict[str, np.ndarray] = {}
    for ind in indicators:
        try:
            values = FAMILIES[ind.family].compute(arrays, ind.params)
        except KeyError as exc:
            raise ParameterError(f"{ind.columns[0]} needs a {exc.args[0]!r} column") from None
        out.update(zip(ind.columns, values, strict=True))
    return out


def alias_map(indicators: Sequence[Indicator]) -> dict[str, str]:
    """alias → primary column: pandas-ta names, plus `macd`, `bb_z`, ... for the first of each
    multi-output family in the spec (so filters can say `macd > 0`)."""
    mapping: dict[str, str] = {}
    for ind in indicators:
        mapping.update(ind.aliases())
        for alias, column in zip(FAMILIES[ind.family].short, ind.columns, strict=False):
            mapping.setdefault(alias, column)
    return mapping


def add(
    df: pd.DataFrame,
    spec: str | Path | Iterable[str | Mapping[str, Any]] | None = None,
    *,
    aliases: bool = False,
) -> pd.DataFrame:
    """A copy of an OHLCV frame with indicator columns appended, e.g. `add(df, ["sma50", "rsi14"])`.

    `aliases=True` also writes the alias columns of `alias_map` (pandas-ta names such as
    `SMA_50`, and `macd`, `bb_z`, ...), for code written against those names.
    """
    indicators = parse_spec(spec)
    columns = compute(df, indicators)
    if aliases:
        columns.update({a: columns[c] for a, c in alias_map(indicators).items()})
    extra = pd.DataFrame(columns, index=df.index)
    return pd.concat([df.drop(columns=[c for c in columns if c in df.columns]), extra], axis=1)
