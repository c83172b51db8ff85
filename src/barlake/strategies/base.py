"""What a strategy is: a pure function bars + params → signals, with a declared parameter space.

The space (names, types, ranges, steps, constraints such as `fast < slow`) is data, so the
optimizer can sample it, the CLI can parse `--param fast=10`, and a grid can be enumerated
without running anything. Constraints are expressions in the scanner's safe language.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from barlake.errors import ConfigError
from barlake.scan_expr import Expression, parse


class Signals(NamedTuple):
    """Boolean arrays, one value per bar, decided at each bar's close. Short signals are
    optional: with `direction="both"` and none given, exits open shorts and entries cover."""

    entries: np.ndarray
    exits: np.ndarray
    short_entries: np.ndarray | None = None
    short_exits: np.ndarray | None = None


@dataclass(frozen=True)
class Param:
    """One parameter: `kind` int, float or choice; `low`..`high` inclusive with `step` (the
    grid and the optimizer's resolution), or `choices`."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""

    def convert(self, raw: Any) -> Any:
        """A CLI string or a Python value → the parameter's type, checked against the range."""
        if self.kind == "choice":
            value = raw if raw in self.choices else str(raw).strip()
            if value not in self.choices:
                raise ConfigError(f"{self.name} must be one of {list(self.choices)}, got {raw!r}")
            return value
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.name} must be a number, got {raw!r}") from None
        if isinstance(raw, bool) or not np.isfinite(number):
            raise ConfigError(f"{self.name} must be a number, got {raw!r}")
        if self.kind == "int":
            if number != int(number):
                raise ConfigError(f"{self.name} must be a whole number, got {raw!r}")
            number = int(number)
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise ConfigError(f"{self.name} must be in [{self.low}, {self.high}], got {raw!r}")
        return number

    def values(self) -> list[Any]:
        """Every grid value of the parameter, low to high."""
        if self.kind == "choice":
            return list(self.choices)
        if self.low is None or self.high is None or not self.step:
            raise ConfigError(f"{self.name} declares no range to enumerate")
        count = int(np.floor((self.high - self.low) / self.step + 1e-9)) + 1
        grid = [self.low + k * self.step for k in range(count)]
        return [round(v) for v in grid] if self.kind == "int" else [round(v, 12) for v in grid]


@dataclass(frozen=True)
class Strategy:
    """A named signal function with its parameter space and constraints."""

    name: str
    func: Callable[..., Signals]
    params: tuple[Param, ...]
    constraints: tuple[str, ...] = ()
    doc: str = ""
    _parsed: tuple[Expression, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed", tuple(parse(c, kind="bool") for c in self.constraints))

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated by `overrides` (strings allowed), converted and checked."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(overrides or {}) - set(known))
        if unknown:
            raise ConfigError(
                f"{self.name} has no parameter {unknown}: it takes {', '.join(known)}"
            )
        merged = {**self.defaults, **(overrides or {})}
        values = {name: known[name].convert(value) for name, value in merged.items()}
        broken = self.violated(values)
        if broken:
            raise ConfigError(f"{self.name}: {values} break the constraint {broken!r}")
        return values

    def violated(self, values: Mapping[str, Any]) -> str | None:
        """The first constraint a parameter set breaks, or None."""
        numeric = {k: np.asarray([float(v)]) for k, v in values.items() if not isinstance(v, str)}
        for expr in self._parsed:
            if not bool(expr.evaluate(numeric)[0]):
                return expr.text
        return None

    def grid(self, **ranges: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """Every parameter set that meets the constraints: the given values for the named
        parameters, the declared grid for the others."""
        names = [p.name for p in self.params]
        pools = [
            list(ranges[n]) if n in ranges else p.values()
            for n, p in zip(names, self.params, strict=True)
        ]
        for combo in itertools.product(*pools):
            values = dict(zip(names, combo, strict=True))
            if self.violated(values) is None:
                yield values

    def signals(self, bars: pd.DataFrame, **overrides: Any) -> Signals:
        """Run the strategy on bars with defaults for any parameter not given."""
        return self.func(bars, **self.resolve(overrides))
