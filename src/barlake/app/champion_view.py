"""A finished run's champion on the page: its paper manifest and its test backtest, replayed.

The download is the very file `barlake optimize manifest` writes (it is written by the same
function), and the equity curve comes from replaying that manifest on the lake's bars, so
the page shows what a paper trader would rebuild, not a number copied from report.json.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from barlake.backtest.api import from_signals
from barlake.backtest.result import Result
from barlake.lake import Lake
from barlake.optimize.manifest import first_trade_index, manifest_bars, write_manifest
from barlake.strategies import get_strategy


def fold_choices(report: dict[str, Any]) -> list[int]:
    """The folds of a report, last first (the manifest's default is the last fold)."""
    return [int(f["fold"]) for f in reversed(report.get("folds") or [])]


def fold_entry(report: dict[str, Any], fold: int) -> dict[str, Any]:
    """report.json's entry of one fold: front size, message and champion (or None)."""
    return next(f for f in report["folds"] if int(f["fold"]) == fold)


def manifest_bytes(run_dir: Path, fold: int | None = None) -> bytes:
    """The manifest JSON of a fold's champion, byte for byte what the CLI writes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_manifest(run_dir, Path(tmp) / "champion.json", fold=fold)
        return path.read_bytes()


def champion_result(manifest: bytes | dict[str, Any], lake: Lake | Path | str) -> Result:
    """The champion's test backtest from its manifest: signals on the warm-up and test bars,
    trades from the first test bar on with fresh cash, as the report computed it."""
    data = json.loads(manifest) if isinstance(manifest, bytes) else manifest
    spec = data["data"]
    bars = manifest_bars(data, lake)
    begin = first_trade_index(bars, spec)
    signals = get_strategy(data["strategy"]).signals(bars, **data["params"])
    traded = [None if s is None else s[begin:] for s in signals]
    return from_signals(
        bars.iloc[begin:],
        traded[0],
        traded[1],
        short_entries=traded[2],
        short_exits=traded[3],
        timeframe=spec["timeframe"],
        **data["backtest"],
    )


def champion_rows(champion: dict[str, Any]) -> pd.DataFrame:
    """Train and test stats of a champion side by side, one row per stat."""
    train, test = champion.get("train") or {}, champion.get("test") or {}
    names = list(dict.fromkeys([*train, *test]))
    return pd.DataFrame(
        {"train": [train.get(n) for n in names], "test": [test.get(n) for n in names]},
        index=pd.Index(names, name="stat"),
    )
