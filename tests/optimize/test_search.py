"""Whole runs in this process (one worker): reproducible, blind to the test part, the
constraints, the champion rule against the CSVs, walk-forward, the manifest replay."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from optimize_support import results, small_config, walk_5m, with_other_tail, write_lake

from barlake.errors import ConfigError, DataError
from barlake.optimize import build_report, replay_manifest, start, write_manifest
from barlake.optimize.evaluate import backtest_slice
from barlake.optimize.params import backtest_options, strategy_params
from barlake.strategies import get_strategy


def run(lake, tmp_path, **overrides):
    return start(small_config(**overrides), lake=lake, runs_dir=tmp_path / "runs", processes=False)


@pytest.fixture(scope="module")
def finished(walk_lake, tmp_path_factory):
    """One complete run, shared by the tests that only read it."""
    return start(
        small_config(), lake=walk_lake, runs_dir=tmp_path_factory.mktemp("runs"), processes=False
    )


def test_a_run_fills_its_folder_with_context_status_progress_report_and_csvs(finished):
    files = {p.name for p in finished.run_dir.iterdir()}
    assert {"context.json", "status.json", "progress.jsonl", "report.json", "trials.csv",
            "pareto.csv", "champion.csv", "optuna.journal"} <= files  # fmt: skip
    assert finished.state == "complete"
    context = json.loads((finished.run_dir / "context.json").read_text())
    assert context["data"]["bars"] == 1152 and len(context["data"]["fingerprint"]) == 64
    assert context["code"]["barlake"] and context["code"]["optuna"]
    assert context["windows"][0]["train_end"] == 864
    status = json.loads((finished.run_dir / "status.json").read_text())
    assert status["state"] == "complete"
    assert [(s["strategy"], s["done"]) for s in status["studies"]] == [
        ("ma_cross", 24),
        ("range_breakout", 24),
    ]
    events = [
        json.loads(line)["event"]
        for line in (finished.run_dir / "progress.jsonl").read_text().splitlines()
    ]
    assert events.count("trial") == 48 and events[-1] == "session_finished"
    trials = pd.read_csv(finished.run_dir / "trials.csv")
    for column in (
        "strategy",
        "number",
        "state",
        "params_fast",
        "params_tp_pct",
        "params_mode",
        "train_return_pct",
        "train_max_dd_pct",
        "train_trades",
        "test_return_pct",
        "test_max_dd_pct",
    ):
        assert column in trials.columns  # fmt: skip
    assert sorted(trials.loc[trials.strategy == "ma_cross", "number"]) == list(range(24))


def test_the_same_seed_gives_the_same_trials_and_another_seed_does_not(
    walk_lake, tmp_path, finished
):
    again = run(walk_lake, tmp_path)
    pd.testing.assert_frame_equal(results(again.run_dir), results(finished.run_dir))
    assert again.report.champion == finished.report.champion
    other = results(run(walk_lake, tmp_path, seed=7).run_dir)
    assert not other["params_tp_pct"].equals(results(finished.run_dir)["params_tp_pct"])


def test_metrics_are_written_at_full_precision(finished):
    trials = pd.read_csv(finished.run_dir / "trials.csv")
    events = [
        json.loads(line) for line in (finished.run_dir / "progress.jsonl").read_text().splitlines()
    ]
    stored = {
        (e["strategy"], e["slot"]): e["train_max_dd_pct"] for e in events if e["event"] == "trial"
    }
    for row in trials.itertuples():
        assert row.train_max_dd_pct == stored[(row.strategy, row.number)]  # exact, not rounded
    assert trials.train_max_dd_pct.map(lambda v: len(repr(v))).max() >= 16


def test_the_search_never_sees_the_test_part(tmp_path):
    bars = walk_5m()
    lake_a = write_lake(tmp_path / "a", bars)
    lake_b = write_lake(tmp_path / "b", with_other_tail(bars, 864, seed=99))
    a, b = run(lake_a, tmp_path), run(lake_b, tmp_path)
    ra, rb = results(a.run_dir), results(b.run_dir)
    train = [c for c in ra.columns if not c.startswith("test_") and c != "pareto"]
    pd.testing.assert_frame_equal(ra[train], rb[train])  # every proposal and train metric
    assert not np.allclose(ra["test_return_pct"].dropna(), rb["test_return_pct"].dropna())


def test_trials_below_the_minimum_trade_count_stay_off_the_front(walk_lake, tmp_path):
    outcome = run(walk_lake, tmp_path, min_trades=40)
    trials = outcome.report.trials
    assert (trials.loc[trials.train_trades < 40, "feasible"] == False).all()  # noqa: E712
    assert not trials.loc[trials.pareto, "train_trades"].lt(40).any()


def test_proposals_always_meet_the_strategy_constraints(finished):
    trials = finished.report.trials
    breakout = trials[trials.strategy == "range_breakout"]
    assert (breakout.params_exit_n <= breakout.params_n).all()
    ma = trials[trials.strategy == "ma_cross"]
    assert (ma.params_fast < ma.params_slow).all()


def test_champion_csv_follows_the_rule_applied_to_pareto_csv(finished):
    pareto = pd.read_csv(finished.run_dir / "pareto.csv")
    champion = pd.read_csv(finished.run_dir / "champion.csv")
    qualified = pareto[pareto.test_max_dd_pct <= 20.0]
    best = qualified.sort_values(
        ["test_return_pct", "test_max_dd_pct"], ascending=[False, True]
    ).iloc[0]
    assert len(champion) == 1
    assert (champion.strategy[0], champion.number[0]) == (best.strategy, best.number)
    assert champion.test_return_pct[0] == qualified.test_return_pct.max()
    report = json.loads((finished.run_dir / "report.json").read_text())
    assert report["champion"]["number"] == best.number and report["message"].startswith("Champion:")


def test_front_members_have_test_metrics_and_the_others_do_not(finished):
    trials = finished.report.trials
    assert trials.loc[trials.pareto, "test_return_pct"].notna().all()
    assert trials.loc[~trials.pareto, "test_return_pct"].isna().all()


def test_when_no_front_member_keeps_test_drawdown_under_the_limit_there_is_no_champion(
    walk_lake, tmp_path
):
    outcome = run(walk_lake, tmp_path, dd_max=1e-9)
    assert outcome.report.champion is None
    assert outcome.report.message.startswith("No champion: none of the")
    assert pd.read_csv(outcome.run_dir / "champion.csv").empty
    with pytest.raises(ConfigError, match=r"no champion to write\. No champion: none of the"):
        write_manifest(outcome.run_dir, tmp_path / "champion.json")


def test_the_manifest_replays_the_champions_test_metrics_exactly(finished, walk_lake, tmp_path):
    path = write_manifest(finished.run_dir, tmp_path / "out" / "champion.json", lake=walk_lake)
    manifest = json.loads(path.read_text())
    champion = finished.report.champion
    assert manifest["strategy"] == champion["strategy"]
    assert {**manifest["params"], **manifest["common"]}.items() <= champion["params"].items()
    assert manifest["backtest"]["fees_bps"] == 4.5 and manifest["backtest"]["slippage_bps"] == 1.0
    assert (
        manifest["split"]["train_end"] == 864
        and manifest["data"]["first_trade_ms"] == manifest["split"]["test_start_ms"]
    )
    replayed = replay_manifest(path, lake=walk_lake)
    expected = {k: v for k, v in manifest["metrics"]["test"].items() if v is not None}
    assert {k: replayed[k] for k in expected} == expected  # bit for bit
    assert replayed["total_return_pct"] == champion["test"]["total_return_pct"]


def test_replaying_on_different_bars_is_refused(finished, walk_lake, tmp_path):
    path = write_manifest(finished.run_dir, tmp_path / "champion.json", lake=walk_lake)
    changed = write_lake(tmp_path / "changed", with_other_tail(walk_5m(), 1000, seed=5))
    with pytest.raises(DataError, match="differ from the 1152 bars the manifest was made on"):
        replay_manifest(path, lake=changed)


def test_test_metrics_use_train_bars_only_to_warm_up_indicators(walk_lake):
    bars = walk_lake.read("test", "WALK", "5m")
    params = {"fast": 5, "slow": 40, "kind": "sma", "tp_pct": 2.0, "sl_pct": 1.0, "mode": "none"}
    options = backtest_options(params, small_config())
    values = strategy_params(get_strategy("ma_cross"), params)
    warmed = backtest_slice(bars, 864, "ma_cross", values, options, "5m", record=True)
    assert warmed.equity is not None and len(warmed.equity) == 288  # trades only on test bars
    cold = backtest_slice(bars.iloc[864:], 0, "ma_cross", values, options, "5m")
    assert warmed.stats["trades"] >= cold.stats["trades"]  # cold: no signal until the SMA fills


def test_walk_forward_reports_each_fold_and_the_chained_test_parts(walk_lake, tmp_path):
    outcome = run(walk_lake, tmp_path, walk_forward=3, max_trials=16)
    report = outcome.report.summary
    assert [f["fold"] for f in report["folds"]] == [0, 1, 2]
    assert len(report["studies"]) == 6 and report["trials"] == {"done": 96, "target": 96}
    windows = report["windows"]
    assert windows[0]["test_end"] == windows[1]["test_start"] and windows[-1]["test_end"] == 1152
    aggregate = report["walk_forward"]
    champions = [f["champion"] for f in report["folds"]]
    returns = [1 + c["test"]["total_return_pct"] / 100 for c in champions if c is not None]
    assert aggregate["folds_with_champion"] == len(returns)
    assert aggregate["test_return_pct"] == pytest.approx((np.prod(returns) - 1) * 100, rel=1e-12)
    assert aggregate["test_max_dd_pct"] >= max(
        c["test"]["max_drawdown_pct"] for c in champions if c
    )
    assert report["message"].startswith("Walk-forward over 3 folds")
    assert set(pd.read_csv(outcome.run_dir / "champion.csv").fold) <= {0, 1, 2}


def test_a_walk_forward_fold_never_sees_bars_after_its_train_part(tmp_path):
    bars = walk_5m()
    a = run(write_lake(tmp_path / "a", bars), tmp_path, walk_forward=3, max_trials=8)
    changed = with_other_tail(bars, a.report.summary["windows"][0]["train_end"], seed=42)
    b = run(write_lake(tmp_path / "b", changed), tmp_path, walk_forward=3, max_trials=8)
    ra, rb = results(a.run_dir), results(b.run_dir)
    fold0 = [c for c in ra.columns if not c.startswith("test_") and c != "pareto"]
    pd.testing.assert_frame_equal(ra.loc[ra.fold == 0, fold0], rb.loc[rb.fold == 0, fold0])


def test_the_report_can_be_rebuilt_and_gives_the_same_files(finished):
    before = (finished.run_dir / "trials.csv").read_text()
    rebuilt = build_report(finished.run_dir)
    assert (finished.run_dir / "trials.csv").read_text() == before
    assert rebuilt.champion == finished.report.champion


def test_an_empty_date_range_is_a_clear_error(walk_lake, tmp_path):
    config = small_config(start="2023-01-01", end="2023-02-01")
    with pytest.raises(
        DataError, match="no 5m bars for test/WALK between 2023-01-01 and 2023-02-01"
    ):
        start(config, lake=walk_lake, runs_dir=tmp_path / "runs", processes=False)


def test_an_unwritable_run_folder_is_a_clear_error(walk_lake, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the runs folder should be")
    with pytest.raises(
        ConfigError, match=r"cannot create the run folder .* pass a writable --runs-dir"
    ):
        start(small_config(), lake=walk_lake, runs_dir=blocker, processes=False)


def test_a_named_run_gets_its_folder_and_the_name_cannot_be_reused(walk_lake, tmp_path):
    config = small_config(strategies=("ma_cross",), max_trials=4, population=4)
    outcome = start(config, lake=walk_lake, runs_dir=tmp_path, run_id="nightly-1", processes=False)
    assert outcome.run_dir == tmp_path / "nightly-1_WALK_5m"
    with pytest.raises(ConfigError, match="exists: resume it, or pick another run id"):
        start(config, lake=walk_lake, runs_dir=tmp_path, run_id="nightly-1", processes=False)
    with pytest.raises(ConfigError, match="run id must match"):
        start(config, lake=walk_lake, runs_dir=tmp_path, run_id="../escape", processes=False)
