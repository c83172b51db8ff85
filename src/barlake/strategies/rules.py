"""Rule strategies from YAML: entry/exit conditions over indicators and external series.

    name: dip_with_sentiment
    entry: "rsi14 < 30 and close > sma50 and sentiment > 0.2"
    exit: "rsi14 > 70"
    direction: long                  # optional: long, short or both
    external:
      sentiment: {path: sentiment.csv, column: score}

Conditions use the scanner's safe expression language (parsed, never `eval`-ed); any name
the scanner knows (`rsi14`, `sma50`, `MACDh_12_26_9`, `bb_z`, `close`, ...) is computed on
demand. An external series is joined as of each bar's close: bar t sees the last value stamped
at or before `t + timeframe`, never a later one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from barlake.bars.frame import ohlcv_arrays
from barlake.errors import ConfigError
from barlake.indicators.spec import compute
from barlake.scan import plan
from barlake.scan_expr import Expression, parse
from barlake.strategies.base import Signals
from barlake.strategies.external import External, load_external
from barlake.timeframes import infer_timeframe_ms

_KEYS = {"name", "entry", "exit", "short_entry", "short_exit", "direction", "external"}
_CONDITIONS = ("entry", "exit", "short_entry", "short_exit")


@dataclass(frozen=True)
class RuleStrategy:
    """Parsed rules; `signals(bars)` evaluates them bar by bar, vectorised."""

    name: str
    conditions: dict[str, Expression]
    direction: str = "long"
    external: dict[str, External] = field(default_factory=dict)

    def signals(self, bars: pd.DataFrame, timeframe_ms: int | None = None) -> Signals:
        values = self.values(bars, timeframe_ms)
        out = {key: _evaluate(expr, values, len(bars)) for key, expr in self.conditions.items()}
        return Signals(
            out["entry"],
            out.get("exit", np.zeros(len(bars), np.bool_)),
            out.get("short_entry"),
            out.get("short_exit"),
        )

    def values(self, bars: pd.DataFrame, timeframe_ms: int | None = None) -> dict[str, np.ndarray]:
        """Every name the rules read, as one array per name on the bars."""
        indicators, columns = plan(list(self.conditions.values()), known=self.external)
        computed = compute(bars, indicators)
        raw = [column for column in columns.values() if column not in computed]
        computed |= ohlcv_arrays(bars, raw, required=raw)
        values = {name: computed[column] for name, column in columns.items()}
        if self.external:
            closes = _close_times_ms(bars, timeframe_ms)
            values.update({name: ext.as_of(closes) for name, ext in self.external.items()})
        return values


def _evaluate(expr: Expression, values: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    result = np.broadcast_to(expr.evaluate(values), (n,))
    return np.ascontiguousarray(result, dtype=np.bool_)


def _close_times_ms(bars: pd.DataFrame, timeframe_ms: int | None) -> np.ndarray:
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise ConfigError("external series need bars with a DatetimeIndex")
    opens = bars.index.as_unit("ms").asi8
    step = infer_timeframe_ms(opens) if timeframe_ms is None else timeframe_ms
    if step is None:
        raise ConfigError("cannot infer the bar timeframe of the bars: pass timeframe_ms")
    return opens + step


def rules_from_mapping(data: Mapping[str, Any], base_dir: Path | None = None) -> RuleStrategy:
    """Build a RuleStrategy from the YAML mapping; external paths are relative to base_dir."""
    if not isinstance(data, Mapping):
        raise ConfigError("a rules file holds a mapping with at least `entry:`")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown rules key(s) {unknown}: use {', '.join(sorted(_KEYS))}")
    if not data.get("entry"):
        raise ConfigError('rules need an `entry:` condition, e.g. entry: "rsi14 < 30"')
    direction = str(data.get("direction", "long"))
    if direction not in ("long", "short", "both"):
        raise ConfigError(f"direction must be long, short or both, got {direction!r}")
    conditions = {key: parse(str(data[key]), kind="bool") for key in _CONDITIONS if data.get(key)}
    raw_external = data.get("external") or {}
    if not isinstance(raw_external, Mapping):
        raise ConfigError("`external:` maps a name to {path: ..., column: ..., time: ...}")
    external = {
        str(name): load_external(spec, base_dir or Path.cwd(), str(name))
        for name, spec in raw_external.items()
    }
    return RuleStrategy(str(data.get("name", "rules")), conditions, direction, external)


def load_rules(path: str | Path) -> RuleStrategy:
    """Read a rules YAML file."""
    where = Path(path)
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read rules {where}: {exc}") from exc
    return rules_from_mapping(data, where.parent)
