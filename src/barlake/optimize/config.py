"""What an optimisation run is asked to do, validated once, stored in context.json as is.

Everything a worker needs to reproduce a trial lives here (or in the context built from it),
so a worker on another machine and `resume` after a week compute exactly the same thing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from barlake.backtest.settings import MODES, Settings
from barlake.dates import to_range
from barlake.errors import ConfigError
from barlake.strategies import STRATEGIES, get_strategy
from barlake.timeframes import canonical

SAMPLERS = ("nsga2", "tpe")
DEFAULT_POPULATION = {"nsga2": 50, "tpe": 8}


@dataclass(frozen=True)
class OptimizeConfig:
    """One run's settings. `max_trials` counts per strategy (and per fold with walk-forward);
    `time_budget` is in seconds for one session (start, resume or join); `population` is the
    number of trials sampled together from the same history (NSGA-II's population, TPE's
    batch): the search depends on it and on `seed`, never on how many workers run."""

    source: str
    instrument: str
    timeframe: str
    start: str | None = None
    end: str | None = None
    strategies: tuple[str, ...] = tuple(STRATEGIES)
    max_trials: int = 500
    time_budget: float = 600.0
    workers: int = 2
    split: float = 0.75
    walk_forward: int = 0
    dd_max: float = 20.0
    fees_bps: float = 4.5
    slippage_bps: float = 1.0
    modes: tuple[str, ...] = MODES
    seed: int = 42
    sampler: str = "nsga2"
    population: int | None = None
    min_trades: int = 10
    direction: str = "long"
    storage: str | None = None
    claim_timeout: float = 600.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "timeframe", canonical(self.timeframe))
        object.__setattr__(self, "strategies", _names(self.strategies, "strategies"))
        object.__setattr__(self, "modes", _names(self.modes, "modes"))
        for name in self.strategies:
            get_strategy(name)
        unknown = [m for m in self.modes if m not in MODES]
        if unknown:
            raise ConfigError(f"unknown mode(s) {unknown}: use {', '.join(MODES)}")
        if len(set(self.strategies)) != len(self.strategies):
            raise ConfigError(f"a strategy is listed twice in {list(self.strategies)}")
        to_range(self.start, self.end)
        self._check_numbers()
        self._check_choices()

    def _check_numbers(self) -> None:
        _whole("max_trials", self.max_trials, 1)
        _whole("workers", self.workers, 1)
        _whole("min_trades", self.min_trades, 0)
        _whole("seed", self.seed, 0)
        _positive("time_budget", self.time_budget)
        _positive("claim_timeout", self.claim_timeout)
        _positive("dd_max", self.dd_max, high=100.0)
        if not 0.0 < self.split < 1.0:
            raise ConfigError(f"split is the train share, between 0 and 1; got {self.split!r}")
        if self.walk_forward and (not isinstance(self.walk_forward, int) or self.walk_forward < 2):
            raise ConfigError(f"walk_forward needs at least 2 folds, got {self.walk_forward!r}")
        if self.population is not None:
            _whole("population", self.population, 2)

    def _check_choices(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        # the backtest's own checks of the settings it takes from here
        Settings(direction=self.direction, fees_bps=self.fees_bps, slippage_bps=self.slippage_bps)
        if self.storage is not None:
            check_storage_url(self.storage)

    @property
    def batch(self) -> int:
        """Trials per generation: sampled together, so the search is the same for any number
        of workers; never more than max_trials."""
        size = self.population or DEFAULT_POPULATION[self.sampler]
        return max(1, min(size, self.max_trials))

    @property
    def folds(self) -> int:
        return self.walk_forward or 1

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["strategies"] = list(self.strategies)
        data["modes"] = list(self.modes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OptimizeConfig:
        """From context.json; unknown keys are refused (a newer barlake wrote the run)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"context.json holds unknown settings {unknown}: upgrade barlake")
        values = dict(data)
        for name in ("strategies", "modes"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


def check_storage_url(url: str) -> None:
    """A database URL Optuna can share between processes and machines; SQLite is refused
    because several writers on it end in "database is locked"."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        raise ConfigError(
            f"storage must be a database URL such as postgresql://host/db, got {url!r}"
        )
    if scheme.startswith("sqlite"):
        raise ConfigError(
            "sqlite storage is refused: several workers on SQLite hit 'database is locked'. "
            "Leave --storage out (the run keeps a journal file), or use postgresql://"
        )


def _names(value: Any, what: str) -> tuple[str, ...]:
    """A tuple of names from a tuple/list or a comma-separated string."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(str(item).strip() for item in items if str(item).strip())
    if not names:
        raise ConfigError(f"{what} must name at least one")
    return names


def _whole(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")


def _positive(name: str, value: Any, high: float = math.inf) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value <= high:
        bound = f" and <= {high:g}" if high < math.inf else ""
        raise ConfigError(f"{name} must be > 0{bound}, got {value!r}")
