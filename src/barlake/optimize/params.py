"""A trial's parameters → the strategy's own parameters and the backtest settings.

Kept apart from the search space (which needs Optuna) so that replaying a manifest needs
nothing but barlake itself.
"""

from __future__ import annotations

from typing import Any

from barlake.optimize.config import OptimizeConfig
from barlake.strategies import Strategy

GRID_NAMES = ("grid_step_pct", "grid_adds")
MARTINGALE_NAMES = ("martingale_mult", "martingale_cap")


def strategy_params(strategy: Strategy, params: dict[str, Any]) -> dict[str, Any]:
    """The strategy's own parameters out of a trial's parameters."""
    return {p.name: params[p.name] for p in strategy.params}


def common_params(params: dict[str, Any]) -> dict[str, Any]:
    """TP/SL, the mode and only that mode's parameters (what the manifest calls common)."""
    mode = params.get("mode", "none")
    names = ["tp_pct", "sl_pct", "mode"]
    names += (
        list(GRID_NAMES)
        if mode == "grid"
        else list(MARTINGALE_NAMES)
        if mode == "martingale"
        else []
    )
    return {name: params[name] for name in names if name in params}


def backtest_options(params: dict[str, Any], config: OptimizeConfig) -> dict[str, Any]:
    """`Settings` options of a trial. Size follows the mode so every add is funded without
    leverage: all equity with no mode, 1/(1+adds) in grid mode, 1/cap in martingale mode."""
    common = common_params(params)
    options: dict[str, Any] = {
        "direction": config.direction,
        "fees_bps": float(config.fees_bps),
        "slippage_bps": float(config.slippage_bps),
        "tp_pct": float(common["tp_pct"]),
        "sl_pct": float(common["sl_pct"]),
        "mode": common["mode"],
        "size": 1.0,
    }
    if common["mode"] == "grid":
        options["grid_step_pct"] = float(common["grid_step_pct"])
        options["grid_adds"] = int(common["grid_adds"])
        options["size"] = 1.0 / (1 + int(common["grid_adds"]))
    elif common["mode"] == "martingale":
        options["martingale_mult"] = float(common["martingale_mult"])
        options["martingale_cap"] = float(common["martingale_cap"])
        options["size"] = 1.0 / float(common["martingale_cap"])
    return options
