"""One backtest of a lake series by strategy name (or a rules file): what `barlake backtest` runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from barlake.backtest.result import Result
from barlake.backtest.sweep import run_strategy
from barlake.errors import ConfigError, DataError
from barlake.lake import Lake
from barlake.strategies import RuleStrategy, Strategy, get_strategy, load_rules

RULES = "rules"


@dataclass
class BacktestRun:
    """The result plus what produced it, for printing and for the report's title."""

    result: Result
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None

    @property
    def title(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.strategy}({shown})" if shown else self.strategy


def parse_params(items: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """`["fast=10", "slow=50"]` → {"fast": "10", "slow": "50"} (converted by the strategy)."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--param takes NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _strategy(strategy: str, params, rules) -> tuple[Strategy | RuleStrategy, dict[str, Any]]:
    """The built-in strategy and its parameter values, or the rules (a file, or parsed)."""
    if (strategy == RULES) != (rules is not None):
        raise ConfigError("use `barlake backtest rules --rules FILE.yaml` for a rules file")
    if rules is not None:
        return (rules if isinstance(rules, RuleStrategy) else load_rules(rules)), {}
    chosen = get_strategy(strategy)
    return chosen, chosen.resolve(parse_params(params))


def run_backtest(
    lake: Lake | Path | str | None,
    strategy: str,
    *,
    source: str,
    instrument: str,
    timeframe: str = "1h",
    start: object = None,
    end: object = None,
    params: Iterable[str] | Mapping[str, Any] | None = None,
    rules: Path | str | RuleStrategy | None = None,
    report: Path | str | None = None,
    **options: Any,
) -> BacktestRun:
    """Check the strategy and its parameters (or `rules` + a rules file or parsed rules) before
    any bar is read, then read the bars, backtest, and write the HTML report if asked.
    `options` go to `from_signals`."""
    chosen, values = _strategy(strategy, params, rules)
    store = lake if isinstance(lake, Lake) else Lake(lake)
    bars = store.read(source, instrument, timeframe, start, end)
    if bars.empty:
        raise DataError(
            f"no {timeframe} bars for {source}/{instrument} in that range (see `barlake ls`)"
        )
    result = run_strategy(bars, chosen, values, timeframe=timeframe, **options)
    run = BacktestRun(result, chosen.name, values)
    if report is not None:
        run.report = result.report(report, title=f"{source}/{instrument} {timeframe} · {run.title}")
    return run
