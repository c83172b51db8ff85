"""Optimizer throughput on one year of 5m bars with 1 and 2 workers. Prints one JSON line.

- trials_per_s: trials recorded per second while every worker of the session was at work
  (from the last worker's first trial to the first worker's last: start-up excluded), all
  five strategies, NSGA-II, population 50, default modes. Target: `two_over_one >= 1.7`
  (`two_over_one_whole_span` counts from the very first trial to the very last). Each setting
  runs `--repeat` times, interleaved, best kept, as the machine may be shared.
- parallel_ceiling: the same ratio for two plain backtest loops in two processes against one,
  measured right before, so a busy machine shows as a low ceiling and not as a slow optimizer.
- storage_over_backtest: time a worker spends in the storage (recording the trial, claims,
  reading the study) over the time it spends backtesting, per trial, from the workers' own
  timings; each worker's first backtest, which loads the compiled kernels, is start-up
  (`warmup_s`), not a trial's backtest time. Target: < 0.10. `sampling_over_backtest` (Optuna's
  sampler) is reported beside it.

    python benchmarks/bench_optimize.py [--trials 200] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barlake.lake import Lake
from barlake.optimize import OptimizeConfig, start
from barlake.optimize.rundir import RunDir

YEAR_5M = 365 * 288
STRATEGIES = ("ma_cross", "rsi_reversion", "bollinger_breakout", "stochastic", "range_breakout")


def year_of_5m(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0.0, 2e-3, YEAR_5M)))
    open_ = np.r_[30_000.0, close[:-1]]
    spread = rng.random((2, YEAR_5M)) * 1e-3
    index = pd.date_range("2023-01-01", periods=YEAR_5M, freq="5min", tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + spread[0]),
            "low": np.minimum(open_, close) * (1 - spread[1]),
            "close": close,
            "volume": 1.0,
        },
        index=index,
    )


def session(lake: Lake, runs: Path, workers: int, trials: int) -> dict[str, float]:
    config = OptimizeConfig(
        "bench", "BTCUSDT", "5m", strategies=STRATEGIES, max_trials=trials, workers=workers,
        time_budget=3600,
    )  # fmt: skip
    outcome = start(config, lake=lake, runs_dir=runs)
    events = RunDir(outcome.run_dir).events()
    done = [e for e in events if e["event"] == "trial"]
    stamps = [pd.Timestamp(e["time"]) for e in done]
    seconds: dict[str, float] = {}
    for event in events:
        if event["event"] == "worker_finished":
            for key, value in event["seconds"].items():
                seconds[key] = seconds.get(key, 0.0) + value
    span = (stamps[-1] - stamps[0]).total_seconds()
    warmup = warmup_seconds(outcome.run_dir, done)
    backtest = seconds["evaluate"] - warmup
    steady = len(stamps) - workers
    storage = seconds["record"] + seconds["coordinate"]
    return {
        "trials": len(stamps),
        "trials_per_s": all_busy_rate(done),
        "trials_per_s_span": (len(stamps) - 1) / span,
        "storage_over_backtest": storage / len(stamps) / (backtest / steady),
        "sampling_over_backtest": seconds["sample"] / len(stamps) / (backtest / steady),
        "backtest_ms": backtest / steady * 1e3,
        "storage_ms": storage / len(stamps) * 1e3,
        "warmup_s": warmup / workers,
    }


def all_busy_rate(done: list[dict[str, Any]]) -> float:
    """Trials per second while every worker was at work: from the last worker's first trial
    to the first worker's last one. A worker that starts late (spawn, imports, the bars) or
    idles at the end for want of trials left does not count against the others."""
    times: dict[str, list[pd.Timestamp]] = {}
    for event in done:
        times.setdefault(event["worker"], []).append(pd.Timestamp(event["time"]))
    begin = max(t[0] for t in times.values())
    end = min(t[-1] for t in times.values())
    inside = sum(begin <= t <= end for ts in times.values() for t in ts)
    return (inside - 1) / (end - begin).total_seconds()


def warmup_seconds(run_dir: Path, done: list[dict[str, Any]]) -> float:
    """The backtest time of each worker's first trial, which loads the compiled kernels (about
    a second): a worker's start-up, not a trial's backtest time."""
    trials = pd.read_csv(run_dir / "trials.csv").set_index(["strategy", "number"])  # one fold
    first: dict[str, tuple[str, int]] = {}
    for event in done:
        first.setdefault(event["worker"], (event["strategy"], event["slot"]))
    return float(sum(trials.loc[key, "seconds"] for key in first.values()))


def backtest_loop(seconds: float) -> float:
    """Plain backtests per second in this process (the hardware's share)."""
    from barlake.backtest import run_strategy
    from barlake.strategies import get_strategy

    bars = year_of_5m().iloc[: int(YEAR_5M * 0.75)]
    strategy = get_strategy("ma_cross")
    run_strategy(bars, strategy, {"fast": 5, "slow": 60})
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        run_strategy(bars, strategy, {"fast": 5 + done % 40, "slow": 100}, tp_pct=2.0, sl_pct=1.0)
        done += 1
    return done / (time.perf_counter() - started)


def parallel_ceiling(seconds: float = 3.0, repeat: int = 2) -> float:
    """Best two-process rate over best one-process rate, interleaved `repeat` times."""
    context = multiprocessing.get_context("spawn")
    one = two = 0.0
    with context.Pool(2) as pool:
        for _ in range(repeat):
            one = max(one, sum(pool.map(backtest_loop, [seconds], chunksize=1)))
            two = max(two, sum(pool.map(backtest_loop, [seconds, seconds], chunksize=1)))
    return two / one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="per strategy")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp) / "lake")
        lake.write("bench", "BTCUSDT", "5m", year_of_5m())
        ceiling = parallel_ceiling()
        runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for workers in (1, 2):
                runs[workers].append(session(lake, Path(tmp) / "runs", workers, args.trials))
    best = {w: max(r, key=lambda x: x["trials_per_s"]) for w, r in runs.items()}
    report = {
        "bench": "optimize",
        "bars": YEAR_5M,
        "trials_per_session": best[1]["trials"],
        "trials_per_s_1_worker": round(best[1]["trials_per_s"], 1),
        "trials_per_s_2_workers": round(best[2]["trials_per_s"], 1),
        "two_over_one": round(best[2]["trials_per_s"] / best[1]["trials_per_s"], 3),
        "two_over_one_whole_span": round(
            best[2]["trials_per_s_span"] / best[1]["trials_per_s_span"], 3
        ),
        "parallel_ceiling": round(ceiling, 3),
        "backtest_ms_per_trial": round(best[1]["backtest_ms"], 3),
        "backtest_ms_per_trial_2_workers": round(best[2]["backtest_ms"], 3),
        "storage_ms_per_trial": round(best[1]["storage_ms"], 3),
        "storage_ms_per_trial_2_workers": round(best[2]["storage_ms"], 3),
        "storage_over_backtest_1_worker": round(best[1]["storage_over_backtest"], 4),
        "storage_over_backtest_2_workers": round(best[2]["storage_over_backtest"], 4),
        "sampling_over_backtest": round(best[1]["sampling_over_backtest"], 4),
        "warmup_s": round(best[1]["warmup_s"], 3),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
