"""Backtest speed against vectorbt and backtesting.py on synthetic 1m bars. Prints one JSON line.

- pipeline: SMA(10/50) cross, long only, 4.5 bps fees, on 1,000,000 bars — indicators, signals,
  simulation and stats. Ours on the lake's tz-aware UTC frame; vectorbt on a naive index (its
  fast path, see `barlake.backtest.to_vectorbt`) with whichever of its engines (numba, rust) is
  faster, computing the same stats. Target: `vectorbt_over_ours >= 1`.
- backtesting.py runs the same strategy on 100,000 bars; its time x 10 stands for 1M bars.
  Target: `backtesting_py_over_ours >= 100`.
- sweep: 174 SMA pairs (fast 5..50 step 5, slow 20..200 step 10, fast < slow) on the 1M bars.
  vectorbt runs in column chunks (one call would need > 23 GB). Each sweep runs in its own
  process so `peak_mb` is that sweep's own peak RSS. Targets: `sweep_speedup_vs_vectorbt >= 4`,
  our `peak_mb < 4096`.

    python benchmarks/bench_backtest.py [--bars 1000000] [--bt-bars 100000] [--chunk 4]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from barlake.backtest import from_signals, sweep, to_backtesting_py, to_vectorbt
from barlake.strategies import get_strategy

FEES_BPS = 4.5
FAST, SLOW = 10, 50
GRID = {"fast": range(5, 55, 5), "slow": range(20, 210, 10), "kind": ["sma"]}


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """A seeded geometric walk of 1m bars in the lake's shape (tz-aware UTC index)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 5e-4, n)) * close
    index = pd.date_range("2022-01-01", periods=n, freq="1min", tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + wick,
            "low": np.minimum(open_, close) - wick,
            "close": close,
            "volume": rng.uniform(1, 100, n),
        },
        index=index,
    )


def best_of(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best wall time of each function, run round-robin after one warm-up call each."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            began = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - began)
    return best


def ours_pipeline(bars: pd.DataFrame) -> dict:
    signals = get_strategy("ma_cross").signals(bars, fast=FAST, slow=SLOW)
    return from_signals(bars, signals.entries, signals.exits, fees_bps=FEES_BPS).stats


def vectorbt_stats(vbt, pf) -> tuple:
    """The stats our Result carries, from vectorbt's portfolio."""
    trades = pf.trades
    return (
        pf.total_return(),
        pf.annualized_return(),
        pf.sharpe_ratio(),
        pf.sortino_ratio(),
        pf.max_drawdown(),
        pf.calmar_ratio(),
        trades.win_rate(),
        trades.profit_factor(),
        trades.count(),
        trades.pnl.mean(),
        trades.returns.mean(),
        pf.orders.fees.sum(),
    )


def vectorbt_pipeline(vbt, close: pd.Series, engine: str) -> tuple:
    fast, slow = vbt.MA.run(close, FAST), vbt.MA.run(close, SLOW)
    entries, exits = fast.ma_crossed_above(slow), fast.ma_crossed_below(slow)
    pf = vbt.Portfolio.from_signals(
        close, entries, exits, fees=FEES_BPS / 1e4, freq="1min", engine=engine
    )
    return vectorbt_stats(vbt, pf)


def backtesting_py_seconds(bars: pd.DataFrame) -> float:
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values: np.ndarray, n: int) -> np.ndarray:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.buy(size=0.9999)
            elif crossover(self.slow, self.fast):
                self.position.close()

    test = Backtest(to_backtesting_py(bars), SmaCross, cash=10_000, commission=FEES_BPS / 1e4)
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test.run()
    return time.perf_counter() - began


def pipeline_report(bars: pd.DataFrame, bt_bars: int, repeat: int) -> dict:
    import vectorbt as vbt

    warnings.filterwarnings("ignore")
    close = to_vectorbt(bars)["Close"]
    engines = ["numba", "rust"] if vbt._engine.is_rust_available() else ["numba"]
    times = best_of(
        [lambda: ours_pipeline(bars)]
        + [lambda e=e: vectorbt_pipeline(vbt, close, e) for e in engines],
        repeat,
    )
    ours, theirs = times[0], min(times[1:])
    bt = backtesting_py_seconds(bars.iloc[:bt_bars]) * len(bars) / bt_bars
    return {
        "pipeline_ms": {
            "barlake": round(ours * 1e3, 2),
            **{f"vectorbt_{e}": round(t * 1e3, 2) for e, t in zip(engines, times[1:], strict=True)},
        },
        "vectorbt_over_ours": round(theirs / ours, 2),
        "backtesting_py_s_scaled": round(bt, 2),
        "backtesting_py_over_ours": round(bt / ours, 1),
    }


def pairs() -> list[dict]:
    return list(get_strategy("ma_cross").grid(**GRID))


def sweep_ours(bars: pd.DataFrame) -> dict:
    began = time.perf_counter()
    table = sweep(bars, get_strategy("ma_cross"), pairs(), fees_bps=FEES_BPS)
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "runs": len(table), "trades": int(table.trades.sum())}


def sweep_vectorbt(bars: pd.DataFrame, chunk: int) -> dict:
    import vectorbt as vbt

    warnings.filterwarnings("ignore")
    close = to_vectorbt(bars)["Close"]
    sets = pairs()
    engine = "rust" if vbt._engine.is_rust_available() else "numba"
    began = time.perf_counter()
    trades = 0
    for lo in range(0, len(sets), chunk):
        part = sets[lo : lo + chunk]
        fast = vbt.MA.run(close, [p["fast"] for p in part])
        slow = vbt.MA.run(close, [p["slow"] for p in part])
        entries, exits = (
            fast.ma_crossed_above(slow.ma.values),
            fast.ma_crossed_below(slow.ma.values),
        )
        pf = vbt.Portfolio.from_signals(
            close, entries, exits, fees=FEES_BPS / 1e4, freq="1min", engine=engine
        )
        trades += int(vectorbt_stats(vbt, pf)[8].sum())
        del fast, slow, entries, exits, pf
        gc.collect()  # vectorbt's cached properties hold reference cycles: free each chunk
    return {
        "seconds": time.perf_counter() - began,
        "runs": len(sets),
        "trades": trades,
        "engine": engine,
    }


def child(part: str, n: int, chunk: int) -> None:
    """One sweep in this (fresh) process; prints its time and peak RSS as JSON."""
    bars = synthetic(n)
    sweep_ours(bars.iloc[:5000]) if part == "ours" else sweep_vectorbt(
        bars.iloc[:5000], chunk
    )  # compile
    out = sweep_ours(bars) if part == "ours" else sweep_vectorbt(bars, chunk)
    out["peak_mb"] = peak_mb()
    print(json.dumps(out))


def peak_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries the forking parent's
    high-water mark across exec into ru_maxrss, which would charge us the parent's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sweep_report(n: int, chunk: int) -> dict:
    results = {}
    for part in ("ours", "vectorbt"):
        cmd = [sys.executable, __file__, "--child", part, "--bars", str(n), "--chunk", str(chunk)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[part] = json.loads(done.stdout.strip().splitlines()[-1])
    ours, theirs = results["ours"], results["vectorbt"]
    return {
        "sweep_runs": ours["runs"],
        "sweep_backtests_per_s": {
            "barlake": round(ours["runs"] / ours["seconds"], 1),
            "vectorbt": round(theirs["runs"] / theirs["seconds"], 2),
        },
        "sweep_speedup_vs_vectorbt": round(theirs["seconds"] / ours["seconds"], 2),
        "sweep_peak_mb": {
            "barlake": round(ours["peak_mb"]),
            "vectorbt": round(theirs["peak_mb"]),
            "vectorbt_chunk": chunk,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--bt-bars", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=4, help="vectorbt sweep columns per call")
    parser.add_argument("--child", choices=["ours", "vectorbt"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bars, args.chunk)
        return
    report: dict[str, object] = {"bench": "backtest", "bars": args.bars}
    report.update(pipeline_report(synthetic(args.bars), args.bt_bars, args.repeat))
    report.update(sweep_report(args.bars, args.chunk))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
