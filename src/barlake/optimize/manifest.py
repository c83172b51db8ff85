"""The paper manifest: everything needed to rebuild a champion elsewhere, and its replay.

A manifest names the strategy and all its parameters, the common parameters and the full
backtest settings (costs included), the exact bars (series, range, fingerprint), the split and
fold, the train and test metrics, and the code version. `replay_manifest` reads those bars from
a lake and runs the same backtest function the report used, so its stats equal the manifest's
test metrics to the last bit; `barlake backtest --manifest` prints them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barlake.backtest.settings import Settings
from barlake.errors import ConfigError, DataError
from barlake.lake import Lake
from barlake.lake.atomic import write_bytes_atomic
from barlake.optimize.config import OptimizeConfig
from barlake.optimize.evaluate import backtest_slice
from barlake.optimize.params import backtest_options, common_params, strategy_params
from barlake.optimize.rundir import REPORT, RunDir, json_safe
from barlake.optimize.windows import fingerprint
from barlake.strategies import get_strategy

MANIFEST_VERSION = 1


def write_manifest(
    run_dir: Path | str,
    out: Path | str,
    *,
    fold: int | None = None,
    lake: Lake | Path | str | None = None,
    storage: str | None = None,
) -> Path:
    """Write the champion of `fold` (default: the last, i.e. most recent) to `out`."""
    from barlake.optimize.report import build_report  # needs Optuna; a replay does not

    run = RunDir.open(run_dir)
    summary = run.read_json(REPORT)
    if summary is None:
        summary = build_report(run.path, lake=lake, storage=storage).summary
    folds = summary["folds"]
    if fold is not None and not 0 <= fold < len(folds):
        raise ConfigError(f"fold must be between 0 and {len(folds) - 1}, got {fold}")
    chosen = folds[-1 if fold is None else fold]
    if chosen["champion"] is None:
        raise ConfigError(f"no champion to write. {chosen['message']}")
    manifest = build_manifest(run.context(), chosen["champion"], lake)
    target = Path(out)
    write_bytes_atomic(target, (json.dumps(manifest, indent=2, allow_nan=False) + "\n").encode())
    return target


def build_manifest(
    context: dict[str, Any], champion: dict[str, Any], lake: Lake | Path | str | None = None
) -> dict[str, Any]:
    """The manifest of one champion (a report.json entry) of a run."""
    from barlake.optimize.context import load_bars

    config = OptimizeConfig.from_dict({**context["config"], "storage": None})
    window = context["windows"][champion["fold"]]
    bars = load_bars(context, lake).iloc[window["train_start"] : window["test_end"]]
    strategy = get_strategy(champion["strategy"])
    values = strategy_params(strategy, champion["params"])
    settings = Settings.from_options(backtest_options(champion["params"], config)).as_dict()
    spec = data_spec(context["data"], window, bars)
    test = replay(bars, spec, strategy.name, values, settings)
    return json_safe(
        {
            "manifest_version": MANIFEST_VERSION,
            "strategy": strategy.name,
            "params": values,
            "common": common_params(champion["params"]),
            "backtest": settings,
            "data": spec,
            "split": {
                "kind": "walk_forward" if len(context["windows"]) > 1 else "split",
                "split": config.split,
                "folds": len(context["windows"]),
                **window,
            },
            "metrics": {"train": champion["train"], "test": test},
            "run": {
                "run_id": context["run_id"],
                "number": champion["number"],
                "optuna_number": champion["optuna_number"],
                "dd_max": config.dd_max,
                "min_trades": config.min_trades,
                "seed": config.seed,
                "sampler": config.sampler,
            },
            "code_version": context["code"],
        }
    )


def data_spec(data: dict[str, Any], window: dict[str, Any], bars: pd.DataFrame) -> dict[str, Any]:
    """The bars a test backtest reads (warm-up and test part), by series, range and hash."""
    return {
        "source": data["source"],
        "instrument": data["instrument"],
        "timeframe": data["timeframe"],
        "start_ms": window["train_start_ms"],
        "end_ms": window["test_end_ms"],
        "first_trade_ms": window["test_start_ms"],
        "start": window["train_start_time"],
        "end": window["test_end_time"],
        "first_trade": window["test_start_time"],
        "bars": len(bars),
        "fingerprint": fingerprint(bars),
    }


def replay_manifest(
    manifest: Path | str | dict[str, Any], lake: Lake | Path | str | None = None
) -> dict[str, float]:
    """The test stats of a manifest's champion, recomputed from the lake's bars."""
    data = manifest if isinstance(manifest, dict) else load_manifest(manifest)
    bars = manifest_bars(data, lake)
    return replay(bars, data["data"], data["strategy"], data["params"], data["backtest"])


def manifest_bars(data: dict[str, Any], lake: Lake | Path | str | None = None) -> pd.DataFrame:
    """The bars a manifest was made on, refused when the lake's differ (its fingerprint)."""
    spec = data["data"]
    store = lake if isinstance(lake, Lake) else Lake(lake)
    bars = store.read(
        spec["source"], spec["instrument"], spec["timeframe"], spec["start_ms"], spec["end_ms"]
    )
    if bars.empty or fingerprint(bars) != spec["fingerprint"]:
        raise DataError(
            f"the bars of {spec['source']}/{spec['instrument']} {spec['timeframe']} in "
            f"{store.root} between {spec['start']} and {spec['end']} differ from the "
            f"{spec['bars']} bars the manifest was made on: sync that range, or point --lake "
            "at the lake the run used"
        )
    return bars


def first_trade_index(bars: pd.DataFrame, spec: dict[str, Any]) -> int:
    """Position of the first test bar: signals see the warm-up before it, trades start at it."""
    stamps = pd.DatetimeIndex(bars.index).as_unit("ms").asi8
    return int(np.searchsorted(stamps, spec["first_trade_ms"]))


def replay(
    bars: pd.DataFrame,
    spec: dict[str, Any],
    strategy: str,
    params: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, float]:
    begin = first_trade_index(bars, spec)
    return backtest_slice(bars, begin, strategy, params, settings, spec["timeframe"]).stats


def load_manifest(path: Path | str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the manifest {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise ConfigError(f"{path} is not a barlake manifest (version {MANIFEST_VERSION})")
    return data


def stats_json(stats: dict[str, float]) -> str:
    """One JSON object at full precision (shortest round-trip floats); NaN and infinities
    become null."""
    return json.dumps(json_safe(stats), allow_nan=False)
