"""The report, rebuilt from the storage at any time (also for a run that was killed).

Per study, the train Pareto front of the feasible trials (enough trades); every front member is
then backtested on its fold's test part, which nothing before this point has read; per fold,
the champion rule picks among all strategies' front members. With walk-forward the folds'
champions are also chained over the back-to-back test parts (a fold without a champion stays
in cash). Writes report.json, trials.csv, pareto.csv and champion.csv.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import TrialState

from barlake.backtest.settings import Settings
from barlake.lake import Lake
from barlake.lake.atomic import atomic_path
from barlake.optimize.context import load_bars, run_config
from barlake.optimize.evaluate import KEPT_STATS, Evaluator, kept
from barlake.optimize.journal import open_storage, quiet_optuna
from barlake.optimize.params import backtest_options, strategy_params
from barlake.optimize.pareto import choose_champion, front_mask
from barlake.optimize.rundir import (
    CHAMPION_CSV,
    PARETO_CSV,
    REPORT,
    STATUS,
    TRIALS_CSV,
    RunDir,
    json_safe,
    utc_now,
)
from barlake.optimize.studies import StudyRef, open_studies
from barlake.optimize.windows import Window, windows_of
from barlake.strategies import get_strategy

RENAMED = {"total_return_pct": "return_pct", "max_drawdown_pct": "max_dd_pct"}
STAT_COLUMNS = [RENAMED.get(k, k) for k in KEPT_STATS]
LEAD = ["fold", "strategy", "number", "optuna_number", "state", "feasible", "pareto"]
TAIL = ["generation", "worker", "seconds", "note"]


@dataclass
class Report:
    run_dir: Path
    summary: dict[str, Any]
    trials: pd.DataFrame
    pareto: pd.DataFrame
    champions: pd.DataFrame

    @property
    def champion(self) -> dict[str, Any] | None:
        """The champion of the last fold (the only one without walk-forward)."""
        return self.summary["champion"]

    @property
    def message(self) -> str:
        return self.summary["message"]


def build_report(
    run_dir: Path | str,
    *,
    lake: Lake | Path | str | None = None,
    storage: str | None = None,
    bars: pd.DataFrame | None = None,
    refs: list[StudyRef] | None = None,
) -> Report:
    """Read every finished trial, evaluate the train fronts on test, apply the champion rule
    and write the report files into the run folder. A session passes the bars it checked and
    the studies it holds; without them they are read from the lake and the storage."""
    quiet_optuna()
    run = RunDir.open(run_dir)
    context = run.context()
    config = run_config(context, storage)
    if refs is None:
        refs = open_studies(open_storage(config.storage, run.path), context["studies"])
    if bars is None:
        bars = load_bars(context, lake)
    windows = windows_of(context)
    evaluator = Evaluator(bars, windows, config.timeframe)
    trials, params = trials_frame(refs, config.strategies, config.min_trades)
    trials = evaluate_fronts(trials, params, evaluator, config)
    folds, champion_rows = _champions(trials, params, windows, config.dd_max)
    aggregate = _walk_forward(folds, evaluator, config) if len(windows) > 1 else None
    champions = trials.loc[champion_rows].assign(dd_max=config.dd_max)
    summary = _summary(run, context, refs, trials, folds, aggregate, config.max_trials)
    return _write(run, summary, trials, champions)


def trials_frame(
    refs: list[StudyRef], strategies: tuple[str, ...], min_trades: int
) -> tuple[pd.DataFrame, dict[int, dict[str, Any]]]:
    """One row per recorded slot (and the parameters of each row, by row label)."""
    rows: list[dict[str, Any]] = []
    params: dict[int, dict[str, Any]] = {}
    for ref in refs:
        for slot, trial in sorted(ref.refresh().items()):
            train = trial.user_attrs.get("train") or {}
            complete = trial.state == TrialState.COMPLETE
            row: dict[str, Any] = {
                "fold": ref.fold,
                "strategy": ref.strategy,
                "number": slot,
                "optuna_number": trial.number,
                "state": trial.state.name,
                "feasible": complete and train.get("trades", 0) >= min_trades,
                "pareto": False,
                "order": strategies.index(ref.strategy),
            }
            row |= {f"params_{k}": v for k, v in trial.params.items()}
            row |= {f"train_{RENAMED.get(k, k)}": train.get(k) for k in KEPT_STATS}
            row |= {k: trial.user_attrs.get(k) for k in TAIL}
            params[len(rows)] = dict(trial.params)
            rows.append(row)
    empty = LEAD + ["order"] + [f"train_{c}" for c in STAT_COLUMNS] + TAIL
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=empty)
    for column in [c for c in frame.columns if str(c).startswith("params_")]:
        # object dtype: an int stays an int although another strategy's rows leave it empty
        frame[column] = pd.Series([row.get(column) for row in rows], dtype=object)
    for name in (f"test_{c}" for c in STAT_COLUMNS):
        frame[name] = np.nan
    return frame, params


def evaluate_fronts(
    trials: pd.DataFrame, params: dict[int, dict[str, Any]], evaluator: Evaluator, config: Any
) -> pd.DataFrame:
    """Mark each study's train front and backtest its members on the fold's test part."""
    if trials.empty:
        return trials
    feasible = trials[trials["feasible"]]
    for _, group in feasible.groupby(["fold", "strategy"], sort=False):
        mask = front_mask(
            group["train_return_pct"].to_numpy(), group["train_max_dd_pct"].to_numpy()
        )
        trials.loc[group.index[mask], "pareto"] = True
    for label in trials.index[trials["pareto"]]:
        row = trials.loc[label]
        strategy = get_strategy(str(row["strategy"]))
        values = params[label]
        run = evaluator.test(
            int(row["fold"]),
            strategy.name,
            strategy_params(strategy, values),
            backtest_options(values, config),
        )
        for key, value in kept(run.stats).items():
            trials.loc[label, f"test_{RENAMED.get(key, key)}"] = np.nan if value is None else value
    return trials


def _champions(
    trials: pd.DataFrame, params: dict[int, dict[str, Any]], windows: list[Window], dd_max: float
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Per fold, the champion rule over its front members; and the row labels of the
    champions."""
    folds, labels = [], []
    for window in windows:
        fold_rows = trials[(trials["fold"] == window.fold) & trials["pareto"]]
        label, message = choose_champion(fold_rows, dd_max)
        folds.append(
            {
                "fold": window.fold,
                "front_size": len(fold_rows),
                "message": message,
                "champion": None if label is None else _entry(trials, params, label),
            }
        )
        if label is not None:
            labels.append(label)
    return folds, labels


def _entry(trials: pd.DataFrame, params: dict[int, dict[str, Any]], label: Any) -> dict[str, Any]:
    """A front member as report.json shows it: ids, all parameters, train and test stats."""
    row = trials.loc[label]
    return {
        "fold": int(row["fold"]),
        "strategy": str(row["strategy"]),
        "number": int(row["number"]),
        "optuna_number": int(row["optuna_number"]),
        "params": params[label],
        "train": {k: json_safe(row[f"train_{RENAMED.get(k, k)}"]) for k in KEPT_STATS},
        "test": {k: json_safe(row[f"test_{RENAMED.get(k, k)}"]) for k in KEPT_STATS},
    }


def _walk_forward(folds: list[dict[str, Any]], evaluator: Evaluator, config: Any) -> dict[str, Any]:
    """Chain the folds' champions over the test parts: compounded return and the max
    drawdown of the chained equity (a fold without a champion is flat)."""
    growth, peak, worst = 1.0, 1.0, 0.0
    init_cash = Settings().init_cash
    for fold in folds:
        champ = fold["champion"]
        if champ is None:
            continue
        strategy = get_strategy(champ["strategy"])
        run = evaluator.test(
            fold["fold"],
            strategy.name,
            strategy_params(strategy, champ["params"]),
            backtest_options(champ["params"], config),
            record=True,
        )
        assert run.equity is not None
        path = growth * run.equity / init_cash
        running = np.maximum.accumulate(np.r_[peak, path])[1:]
        worst = max(worst, float(np.max(1.0 - path / running)))
        peak, growth = float(running[-1]), float(path[-1])
    with_champion = sum(1 for f in folds if f["champion"] is not None)
    return {
        "folds": len(folds),
        "folds_with_champion": with_champion,
        "test_return_pct": (growth - 1.0) * 100.0,
        "test_max_dd_pct": worst * 100.0,
        "fold_test_return_pct": [
            None if f["champion"] is None else f["champion"]["test"]["total_return_pct"]
            for f in folds
        ],
    }


def _summary(
    run: RunDir,
    context: dict[str, Any],
    refs: list[StudyRef],
    trials: pd.DataFrame,
    folds: list[dict[str, Any]],
    aggregate: dict[str, Any] | None,
    target: int,
) -> dict[str, Any]:
    studies: list[dict[str, Any]] = []
    for ref in refs:
        rows = trials[trials["strategy"].eq(ref.strategy) & trials["fold"].eq(ref.fold)]
        counts = {
            "done": len(rows),
            "target": target,
            "complete": int(rows["state"].eq("COMPLETE").sum()),
            "feasible": int(rows["feasible"].sum()),
            "front": int(rows["pareto"].sum()),
        }
        studies.append({"study": ref.name, "strategy": ref.strategy, "fold": ref.fold, **counts})
    done = int(sum(s["done"] for s in studies))
    status = run.read_json(STATUS) or {}
    message = folds[-1]["message"] if aggregate is None else _wf_message(folds, aggregate)
    return {
        "run_id": context["run_id"],
        "generated_at": utc_now(),
        "state": "complete" if done >= target * len(refs) else "partial",
        "last_status": status.get("state"),
        "trials": {"done": done, "target": target * len(refs)},
        "data": context["data"],
        "config": context["config"],
        "windows": context["windows"],
        "code": context["code"],
        "studies": studies,
        "folds": folds,
        "walk_forward": aggregate,
        "champion": folds[-1]["champion"],
        "message": message,
    }


def _wf_message(folds: list[dict[str, Any]], aggregate: dict[str, Any]) -> str:
    lines = [
        f"Walk-forward over {aggregate['folds']} folds: a champion in "
        f"{aggregate['folds_with_champion']}; chained test return "
        f"{aggregate['test_return_pct']:.2f}% with max drawdown {aggregate['test_max_dd_pct']:.2f}%."
    ]
    lines += [f"Fold {f['fold']}: {f['message']}" for f in folds]
    return "\n".join(lines)


def _write(
    run: RunDir, summary: dict[str, Any], trials: pd.DataFrame, champions: pd.DataFrame
) -> Report:
    trials = _columns(trials)
    pareto = trials[trials["pareto"]] if len(trials) else trials
    champions = _columns(champions, extra=["dd_max"])
    for frame, name in ((trials, TRIALS_CSV), (pareto, PARETO_CSV), (champions, CHAMPION_CSV)):
        with atomic_path(run.file(name)) as tmp:
            frame.to_csv(tmp, index=False)
    summary = json_safe(summary)
    run.write_json(REPORT, summary)
    return Report(run.path, summary, trials, pareto, champions)


def _columns(frame: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    """The CSV column order: ids, parameters, train stats, test stats, bookkeeping."""
    params = [c for c in frame.columns if str(c).startswith("params_")]
    stats = [f"{part}_{c}" for part in ("train", "test") for c in STAT_COLUMNS]
    order = LEAD + params + stats + TAIL + (extra or [])
    return frame.reindex(columns=order)
