"""Worker processes sharing one study: a few hundred trials with 2 OS-process workers equal
a one-worker run of the same seed; stop, then resume, keeps every finished trial."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest
from optimize_support import results, small_config, walk_5m, write_lake

from barlake.optimize import resume, start, stop
from barlake.optimize.rundir import RunDir

LONG = 5760  # 20 days of 5m: enough work per trial for both workers to take part


def config(**overrides):
    settings = {"strategies": ("ma_cross", "rsi_reversion", "range_breakout"), "max_trials": 150,
                "population": 25, "workers": 2}  # fmt: skip
    return small_config(**(settings | overrides))


@pytest.fixture(scope="module")
def long_lake(tmp_path_factory):
    return write_lake(tmp_path_factory.mktemp("long"), walk_5m(LONG, seed=11))


@pytest.fixture(scope="module")
def reference(long_lake, tmp_path_factory):
    """The same search by one worker in this process."""
    outcome = start(
        config(workers=1), lake=long_lake, runs_dir=tmp_path_factory.mktemp("ref"), processes=False
    )
    return results(outcome.run_dir)


def trial_events(run_dir):
    return [e for e in RunDir(run_dir).events() if e["event"] == "trial"]


def test_two_worker_processes_share_the_studies_and_find_what_one_worker_finds(
    long_lake, tmp_path, reference
):
    outcome = start(config(), lake=long_lake, runs_dir=tmp_path)
    assert outcome.state == "complete" and outcome.failed_workers == 0
    trials = pd.read_csv(outcome.run_dir / "trials.csv")
    assert len(trials) == 450
    assert not trials.duplicated(["strategy", "number"]).any()
    pids = {w.split(":")[1] for w in trials.worker}
    assert len(pids) == 2, "both worker processes recorded trials"
    finished = [e for e in RunDir(outcome.run_dir).events() if e["event"] == "worker_finished"]
    assert sorted(e["reason"] for e in finished) == ["done", "done"]
    assert sum(e["trials"] for e in finished) == 450
    pd.testing.assert_frame_equal(results(outcome.run_dir), reference)


def test_stop_then_resume_keeps_every_finished_trial_and_ends_where_an_uninterrupted_run_ends(
    long_lake, tmp_path, reference
):
    box = {}
    runner = threading.Thread(
        target=lambda: box.update(first=start(config(), lake=long_lake, runs_dir=tmp_path))
    )
    runner.start()
    run_dir = None
    while run_dir is None or len(trial_events(run_dir)) < 40:
        time.sleep(0.02)
        found = list(tmp_path.glob("*_WALK_5m"))
        run_dir = found[0] if found and (found[0] / "progress.jsonl").exists() else None
    stop(run_dir)
    runner.join(timeout=120)
    first = box["first"]
    assert first.state == "stopped"
    kept = pd.read_csv(run_dir / "trials.csv")
    assert 40 <= len(kept) < 450
    events = RunDir(run_dir).events()
    assert sorted(e["reason"] for e in events if e["event"] == "worker_finished") == [
        "stopped",
        "stopped",
    ]
    assert len(trial_events(run_dir)) == len(
        kept
    )  # every trial a worker finished is in the storage
    assert json.loads((run_dir / "status.json").read_text())["state"] == "stopped"

    second = resume(run_dir)
    assert second.state == "complete"
    final = pd.read_csv(run_dir / "trials.csv")
    before = kept.set_index(["strategy", "number"])
    after = final.set_index(["strategy", "number"]).loc[before.index]
    pd.testing.assert_frame_equal(after[before.columns.drop(["pareto", *[c for c in before if c.startswith("test_")]])],
                                  before[before.columns.drop(["pareto", *[c for c in before if c.startswith("test_")]])])  # fmt: skip
    pd.testing.assert_frame_equal(results(run_dir), reference)
