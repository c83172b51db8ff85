"""The Backtest page's logic, apart from its widgets: the request the widgets make, and one
backtest through `barlake backtest`'s own `run_backtest`.

The page only collects values; everything here is plain Python, so a test can check that the
page's numbers are the library's numbers for the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from barlake.backtest import runner
from barlake.backtest.result import TRADE_SHOWN, Result
from barlake.backtest.runner import BacktestRun, run_backtest
from barlake.errors import ConfigError
from barlake.lake import Lake
from barlake.strategies import STRATEGIES, RuleStrategy, rules_from_mapping

RULES = "rules (YAML)"
STRATEGY_CHOICES = (*STRATEGIES, RULES)
EXAMPLE_RULES = 'name: rsi_dip\nentry: "rsi14 < 30"\nexit: "rsi14 > 70"\ndirection: long\n'


@dataclass(frozen=True)
class BacktestRequest:
    """Everything the page's widgets chose. `options` go to `from_signals`; `rules_text` is
    the YAML when `strategy` is RULES."""

    source: str
    instrument: str
    timeframe: str
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    rules_text: str = ""
    start: str | None = None
    end: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def position_options(
    *,
    fees_bps: float,
    slippage_bps: float,
    tp_pct: float,
    sl_pct: float,
    mode: str,
    size: float,
    mode_params: dict[str, Any] | None = None,
    direction: str | None = None,
) -> dict[str, Any]:
    """Backtest options from the form: a TP/SL of 0 is off, the mode's own parameters only
    with that mode, the direction only when chosen (rules otherwise bring their own)."""
    options: dict[str, Any] = {
        "fees_bps": float(fees_bps),
        "slippage_bps": float(slippage_bps),
        "tp_pct": float(tp_pct) if tp_pct else None,
        "sl_pct": float(sl_pct) if sl_pct else None,
        "mode": mode,
        "size": float(size),
    }
    if mode != "none":
        options.update(mode_params or {})
    if direction is not None:
        options["direction"] = direction
    return options


def rules_from_text(text: str, base_dir: Path | None = None) -> RuleStrategy:
    """Rules from YAML text (a text area or an upload); a YAML slip names the line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"the rules YAML does not parse{where}: {problem}") from None
    return rules_from_mapping(data, base_dir)


def run_request(lake: Lake, request: BacktestRequest) -> BacktestRun:
    """`barlake backtest` for the page's choices (the rules YAML parsed from the text first)."""
    rules = rules_from_text(request.rules_text) if request.strategy == RULES else None
    return run_backtest(
        lake,
        runner.RULES if rules is not None else request.strategy,
        source=request.source,
        instrument=request.instrument,
        timeframe=request.timeframe,
        start=request.start,
        end=request.end,
        params=request.params,
        rules=rules,
        **request.options,
    )


def stats_frame(stats: dict[str, float]) -> pd.DataFrame:
    """The stats as one column indexed by name, in the library's order."""
    return pd.DataFrame(
        {"value": [float(v) for v in stats.values()]}, index=pd.Index(list(stats), name="stat")
    )


def trades_frame(result: Result) -> pd.DataFrame:
    """The trades as shown: newest first, without the bar positions."""
    return result.trades[list(TRADE_SHOWN)].iloc[::-1].reset_index(drop=True)


def headline(run: BacktestRun) -> list[tuple[str, str]]:
    """The few numbers a trader reads first, formatted."""
    stats = run.result.stats
    return [
        ("Total return", f"{stats['total_return_pct']:+.2f} %"),
        ("Max drawdown", f"{stats['max_drawdown_pct']:.2f} %"),
        ("Sharpe", f"{stats['sharpe']:.2f}"),
        ("Trades", f"{int(stats['trades'])}"),
        ("Win rate", f"{stats['win_rate_pct']:.1f} %"),
    ]
