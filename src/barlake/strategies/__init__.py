"""Signal-only strategies with declared parameter spaces, and YAML rule strategies.

Each strategy is a pure function `bars + params → Signals` (boolean entries/exits decided at
each bar's close); `barlake.backtest.from_signals` turns signals into trades.
"""

from __future__ import annotations

from barlake.errors import ConfigError
from barlake.strategies import (
    bollinger_breakout,
    ma_cross,
    range_breakout,
    rsi_reversion,
    stochastic,
)
from barlake.strategies.base import Param, Signals, Strategy
from barlake.strategies.external import External
from barlake.strategies.rules import RuleStrategy, load_rules, rules_from_mapping

STRATEGIES: dict[str, Strategy] = {
    module.STRATEGY.name: module.STRATEGY
    for module in (ma_cross, rsi_reversion, bollinger_breakout, stochastic, range_breakout)
}


def get_strategy(name: str) -> Strategy:
    """A built-in strategy by name; an unknown name lists the known ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(
            f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)} (or rules)"
        ) from None


__all__ = [
    "STRATEGIES",
    "External",
    "Param",
    "RuleStrategy",
    "Signals",
    "Strategy",
    "get_strategy",
    "load_rules",
    "rules_from_mapping",
]
