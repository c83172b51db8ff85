"""The search space of one strategy: its declared parameters plus the common ones (TP/SL, the
position mode and that mode's parameters), as Optuna distributions.

The space is fixed for a run: a mode's parameters are searched whenever that mode is allowed,
and simply unused by trials in another mode. A fixed space lets NSGA-II cross and mutate every
parameter instead of drawing conditional ones at random.
"""

from __future__ import annotations

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from barlake.optimize.params import GRID_NAMES, MARTINGALE_NAMES
from barlake.strategies import Param, Strategy

COMMON: dict[str, BaseDistribution] = {
    "tp_pct": FloatDistribution(0.2, 10.0, step=0.1),
    "sl_pct": FloatDistribution(0.2, 10.0, step=0.1),
}
GRID: dict[str, BaseDistribution] = dict(
    zip(GRID_NAMES, (FloatDistribution(0.2, 5.0, step=0.1), IntDistribution(1, 5)), strict=True)
)
MARTINGALE: dict[str, BaseDistribution] = dict(
    zip(
        MARTINGALE_NAMES,
        (FloatDistribution(1.2, 3.0, step=0.1), IntDistribution(2, 16)),
        strict=True,
    )
)
COMMON_NAMES = ("tp_pct", "sl_pct", "mode", *GRID_NAMES, *MARTINGALE_NAMES)


def distribution(param: Param) -> BaseDistribution:
    """A strategy parameter as Optuna sees it: same range and step as the strategy's grid."""
    if param.kind == "choice":
        return CategoricalDistribution(param.choices)
    if param.low is None or param.high is None:
        raise ValueError(f"{param.name} declares no range to search")
    if param.kind == "int":
        return IntDistribution(int(param.low), int(param.high), step=int(param.step or 1))
    return FloatDistribution(float(param.low), float(param.high), step=param.step)


def search_space(strategy: Strategy, modes: tuple[str, ...]) -> dict[str, BaseDistribution]:
    """Strategy parameters first, then TP/SL, the mode and the allowed modes' parameters."""
    space = {p.name: distribution(p) for p in strategy.params}
    clash = sorted(set(space) & set(COMMON_NAMES))
    if clash:
        raise ValueError(f"{strategy.name} parameters {clash} clash with the common ones")
    space.update(COMMON)
    space["mode"] = CategoricalDistribution(modes)
    if "grid" in modes:
        space.update(GRID)
    if "martingale" in modes:
        space.update(MARTINGALE)
    return space
