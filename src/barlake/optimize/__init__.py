"""Optuna optimisation of the built-in strategies: return vs drawdown on the train part, the
Pareto front judged on the held-out test part, a champion, run folders and a paper manifest.

from barlake.optimize import OptimizeConfig, start
outcome = start(OptimizeConfig("sample", "BTCUSDT", "5m", max_trials=50), runs_dir="runs")
outcome.report.champion, outcome.report.message

Names are imported on first use, so replaying a manifest does not need Optuna installed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OptimizeConfig": "barlake.optimize.config",
    "Outcome": "barlake.optimize.session",
    "Report": "barlake.optimize.report",
    "build_report": "barlake.optimize.report",
    "join": "barlake.optimize.session",
    "load_manifest": "barlake.optimize.manifest",
    "replay_manifest": "barlake.optimize.manifest",
    "resume": "barlake.optimize.session",
    "start": "barlake.optimize.session",
    "stats_json": "barlake.optimize.manifest",
    "stop": "barlake.optimize.session",
    "write_manifest": "barlake.optimize.manifest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'barlake.optimize' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
