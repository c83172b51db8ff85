"""status.json: per study the trials done, the feasible ones and the best-so-far train Pareto
points, read from the storage (not from the workers), so it is right even for workers on other
machines and can be rebuilt for a run that was killed."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from optuna.trial import TrialState

from barlake.optimize.pareto import front_mask
from barlake.optimize.rundir import utc_now
from barlake.optimize.studies import CONSTRAINT, StudyView

BEST_SHOWN = 5


def study_status(ref: StudyView, target: int) -> dict[str, Any]:
    """Counts and the best-so-far train front (highest returns first) of one study."""
    records = ref.refresh()
    complete = [t for t in records.values() if t.state == TrialState.COMPLETE]
    feasible = [t for t in complete if t.system_attrs.get(CONSTRAINT, 0.0) <= 0.0]
    best: list[dict[str, Any]] = []
    if feasible:
        values = np.array([t.values for t in feasible], dtype=np.float64)
        on_front = [
            t
            for t, keep in zip(feasible, front_mask(values[:, 0], values[:, 1]), strict=True)
            if keep
        ]
        on_front.sort(key=lambda t: (-t.values[0], t.values[1], t.user_attrs["slot"]))
        best = [
            {
                "number": t.user_attrs["slot"],
                "train_return_pct": t.values[0],
                "train_max_dd_pct": t.values[1],
                "train_trades": (t.user_attrs.get("train") or {}).get("trades"),
            }
            for t in on_front[:BEST_SHOWN]
        ]
    return {
        "study": ref.name,
        "strategy": ref.strategy,
        "fold": ref.fold,
        "done": len(records),
        "target": target,
        "complete": len(complete),
        "feasible": len(feasible),
        "failed": len(records) - len(complete),
        "best": best,
    }


def snapshot(
    refs: list[StudyView],
    target: int,
    *,
    run_id: str,
    state: str,
    session: str,
    started: float,
    workers: tuple[int, int],
) -> dict[str, Any]:
    """The whole status: state, session, workers alive/started, totals and every study."""
    studies = [study_status(ref, target) for ref in refs]
    return {
        "run_id": run_id,
        "state": state,
        "session": session,
        "updated_at": utc_now(),
        "elapsed_s": round(time.monotonic() - started, 3),
        "workers": {"alive": workers[0], "started": workers[1]},
        "trials": {
            "done": sum(s["done"] for s in studies),
            "target": sum(s["target"] for s in studies),
        },
        "studies": studies,
    }
