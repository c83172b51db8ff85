"""The Optimize page through Streamlit's AppTest: it lists and analyses real run folders,
launches real `barlake optimize` processes that outlive the page, stops them through the
optimizer's own stop, and says readably when a run died or its files are broken."""

from __future__ import annotations

import json
import math
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from run_fixtures import FinishedRun, build_finished_run, copy_run, make_finished_run
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from barlake.app import champion_view, run_launch, runs_view
from barlake.cli.main import main as cli
from barlake.optimize import replay_manifest

PAGE = Path(__file__).parents[2] / "src" / "barlake" / "app" / "views" / "optimize.py"
TIMEOUT = 60
RUN = "fixture_WALK_5m"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    return build_finished_run(tmp_path_factory.mktemp("finished"))


@pytest.fixture
def runs(tmp_path: Path):
    """An empty runs folder; a run the test launched and left running is ended afterwards."""
    folder = tmp_path / "runs"
    yield folder
    for name in run_launch.launched_folders(folder):
        launch = run_launch.read_launch(folder, name)
        if launch is not None and launch.alive:
            os.killpg(launch.pid, signal.SIGTERM)  # a process group this test started


def open_page(monkeypatch, lake: Path, runs: Path) -> AppTest:
    monkeypatch.setenv("BARLAKE_LAKE", str(lake))
    monkeypatch.setenv("BARLAKE_RUNS", str(runs))
    return AppTest.from_file(str(PAGE), default_timeout=TIMEOUT).run()


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with that column (tables without selection have no key)."""
    return next(f.value for f in at.dataframe if column in f.value.columns)


def wait_for(condition, timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_finished_run_shows_champion_pareto_fronts_and_trials(monkeypatch, finished):
    at = open_page(monkeypatch, finished.lake, finished.runs)
    assert not at.exception and not at.error
    runs = frame_with(at, "outcome")
    assert runs[["run", "state", "series", "trials"]].values.tolist() == [
        [RUN, "complete", "test/WALK/5m", "32/32"]
    ]
    report = json.loads((finished.run_dir / "report.json").read_text())
    assert at.header[0].value == f"Run {RUN}"
    assert at.success[0].value == report["message"]
    assert texts(at.subheader) == ["Runs", "Studies", "Pareto fronts", "Champion", "Trials (32)"]
    trials = frame_with(at, "optuna_number")
    expected = pd.read_csv(finished.run_dir / "trials.csv")
    pd.testing.assert_frame_equal(trials.reset_index(drop=True), expected)
    champion = report["champion"]
    assert at.markdown[0].value == f"**{champion['strategy']} #{champion['number']}** (fold 0)"
    stats = frame_with(at, "test")
    assert stats.loc["total_return_pct", "test"] == champion["test"]["total_return_pct"]
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # train and test fronts, the champion's replayed equity


def test_the_manifest_download_is_the_cli_manifest_byte_for_byte(monkeypatch, finished, tmp_path):
    out = tmp_path / "cli.json"
    assert cli(["optimize", "manifest", str(finished.run_dir), "--out", str(out)]) == 0
    cli_bytes = out.read_bytes()
    assert champion_view.manifest_bytes(finished.run_dir, 0) == cli_bytes

    at = open_page(monkeypatch, finished.lake, finished.runs)
    button = at.download_button(key=f"opt.manifest.{RUN}")
    assert button.label == "Download paper manifest (JSON)"
    file_id = _calculate_file_id(cli_bytes, "application/json", f"{RUN}_fold0_champion.json")
    assert Path(button.proto.url).stem == file_id


def test_walk_forward_folds_each_show_their_champion_and_manifest(monkeypatch, finished, tmp_path):
    runs = tmp_path / "runs"
    run_dir = make_finished_run(finished.lake, runs, run_id="wf", walk_forward=2, max_trials=8)
    report = json.loads((run_dir / "report.json").read_text())
    at = open_page(monkeypatch, finished.lake, runs)
    assert not at.exception and not at.error
    fold = at.selectbox(key="opt.fold.wf_WALK_5m")
    assert fold.options == ["1", "0"] and fold.value == 1
    at = fold.set_value(0).run()
    champion = report["folds"][0]["champion"]
    assert champion is not None
    assert at.markdown[0].value == f"**{champion['strategy']} #{champion['number']}** (fold 0)"
    out = tmp_path / "fold0.json"
    assert cli(["optimize", "manifest", str(run_dir), "--out", str(out), "--fold", "0"]) == 0
    file_id = _calculate_file_id(
        out.read_bytes(), "application/json", "wf_WALK_5m_fold0_champion.json"
    )
    assert Path(at.download_button(key="opt.manifest.wf_WALK_5m").proto.url).stem == file_id


def test_the_replayed_champion_equals_the_manifest_test_metrics(finished):
    manifest = json.loads(champion_view.manifest_bytes(finished.run_dir))
    result = champion_view.champion_result(manifest, finished.lake)
    replayed = replay_manifest(manifest, lake=finished.lake)
    assert result.stats.keys() == replayed.keys()
    for name, value in replayed.items():
        same = result.stats[name] == value or (math.isnan(value) and math.isnan(result.stats[name]))
        assert same, name
    test = manifest["metrics"]["test"]
    assert result.stats["total_return_pct"] == test["total_return_pct"]
    assert result.equity.index[0] == pd.Timestamp(manifest["data"]["first_trade"])


def state_of(run_dir: Path) -> str | None:
    view = runs_view.read_run(run_dir)
    return None if view is None else view.state


def launch_from_page(at: AppTest, run_id: str, **settings: object) -> AppTest:
    at.multiselect(key="opt.strategies").set_value(["ma_cross"])
    at.number_input(key="opt.trials").set_value(settings.get("trials", 8))
    at.number_input(key="opt.budget").set_value(float(settings.get("budget", 60.0)))
    at.number_input(key="opt.workers").set_value(1)
    at.number_input(key="opt.min_trades").set_value(3)
    at.number_input(key="opt.population").set_value(8)
    if "start" in settings:
        at.text_input(key="opt.start").set_value(settings["start"])
    at.text_input(key="opt.run_id").set_value(run_id)
    return at.button(key="opt.launch").click().run()


def test_a_run_launched_from_the_page_is_its_own_process_and_appears_when_done(
    monkeypatch, finished, runs
):
    at = launch_from_page(open_page(monkeypatch, finished.lake, runs), "ui")
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Started ui_WALK_5m (process ")
    launch = run_launch.read_launch(runs, "ui_WALK_5m")
    assert launch is not None and launch.pid != os.getpid()
    if launch.alive:
        assert os.getsid(launch.pid) == launch.pid  # its own session: a closed tab leaves it be
    wait_for(lambda: not launch.alive, what="the launched run to finish")

    at = open_page(monkeypatch, finished.lake, runs)
    assert not at.exception and not at.error
    runs_table = frame_with(at, "outcome")
    assert runs_table[["run", "state", "trials"]].values.tolist() == [
        ["ui_WALK_5m", "complete", "8/8"]
    ]
    assert (runs / "ui_WALK_5m" / "report.json").is_file()
    assert "ui_WALK_5m: complete" in Path(launch.log).read_text()


def test_the_stop_button_writes_stop_flag_and_the_run_ends_stopped(monkeypatch, finished, runs):
    at = launch_from_page(
        open_page(monkeypatch, finished.lake, runs), "long", trials=100_000, budget=300
    )
    run_dir = runs / "long_WALK_5m"
    wait_for(lambda: state_of(run_dir) == "running", timeout=60, what="the run to be running")
    at = open_page(monkeypatch, finished.lake, runs)
    assert texts(at.subheader)[:2] == ["Runs", "Progress"]
    assert frame_with(at, "best train return %")["strategy"].tolist() == ["ma_cross"]
    at.button(key="opt.stop.long_WALK_5m").click().run()
    assert not at.exception and not at.error
    assert (run_dir / "stop.flag").is_file()
    launch = run_launch.read_launch(runs, "long_WALK_5m")
    wait_for(lambda: not launch.alive, what="the stopped run to exit")

    at = open_page(monkeypatch, finished.lake, runs)
    assert frame_with(at, "outcome")["state"].tolist() == ["stopped"]
    assert at.button(key="opt.resume.long_WALK_5m").label == "Resume run"


def test_a_killed_run_is_shown_as_died_with_what_to_do(monkeypatch, finished, runs):
    launch_from_page(
        open_page(monkeypatch, finished.lake, runs), "killed", trials=100_000, budget=300
    )
    run_dir = runs / "killed_WALK_5m"
    wait_for(lambda: (run_dir / "status.json").is_file(), timeout=60, what="status.json")
    launch = run_launch.read_launch(runs, "killed_WALK_5m")
    os.killpg(launch.pid, signal.SIGKILL)  # the process group this test's page started
    wait_for(lambda: not launch.alive, what="the killed run to be gone")
    time.sleep(runs_view.DEAD_GRACE_S + 0.5)

    at = open_page(monkeypatch, finished.lake, runs)
    assert not at.exception
    assert frame_with(at, "outcome")["state"].tolist() == ["died"]
    message = at.error[0].value
    assert message.startswith("This run stopped without finishing: status.json still says running")
    assert "the process the app started for it is gone" in message
    assert f"barlake optimize resume {run_dir}" in message
    assert at.button(key="opt.resume.killed_WALK_5m").label == "Resume run"


def test_a_launch_that_fails_on_input_shows_the_commands_error(monkeypatch, finished, runs):
    launch_from_page(open_page(monkeypatch, finished.lake, runs), "late", start="2030-01-01")
    launch = run_launch.read_launch(runs, "late_WALK_5m")
    wait_for(lambda: not launch.alive, what="the failing run to exit")
    at = open_page(monkeypatch, finished.lake, runs)
    assert frame_with(at, "outcome")["state"].tolist() == ["failed"]
    message = at.error[0].value
    assert message.startswith("The run did not start; its output ends with:")
    assert "no 5m bars for test/WALK between 2030-01-01" in message


def test_bad_settings_are_refused_on_the_page_before_any_process(monkeypatch, finished, runs):
    at = open_page(monkeypatch, finished.lake, runs)
    at.multiselect(key="opt.strategies").set_value([])
    at.button(key="opt.launch").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Launching the run: strategies must name at least one")
    assert not runs.exists()


def _corrupt_status(run: Path) -> None:
    (run / "status.json").write_text('{"state": "runn')


def _no_context(run: Path) -> None:
    (run / "context.json").unlink()


def _no_trials(run: Path) -> None:
    (run / "trials.csv").unlink()


def _stale_running(run: Path) -> None:
    status = json.loads((run / "status.json").read_text())
    status |= {"state": "running", "updated_at": "2024-01-01T00:00:00.000+00:00"}
    (run / "status.json").write_text(json.dumps(status))


def _no_report(run: Path) -> None:
    (run / "report.json").unlink()


@pytest.mark.parametrize(
    ("breakage", "state", "message"),
    [
        (_corrupt_status, "broken", "status.json is corrupt ("),
        (_no_context, "broken", "context.json is missing: this folder cannot be read as a run."),
        (_stale_running, "died", "status.json still says running, but nothing has updated it"),
        (_no_report, "broken", "The session ended (complete) but report.json is missing"),
        (_no_trials, "complete", "Reading the trials: trials.csv of fixture_WALK_5m is missing"),
    ],
)
def test_broken_run_folders_give_a_readable_message(
    monkeypatch, finished, tmp_path, breakage, state, message
):
    runs = tmp_path / "runs"
    breakage(copy_run(finished.run_dir, runs))
    at = open_page(monkeypatch, finished.lake, runs)
    assert not at.exception
    assert frame_with(at, "outcome")["state"].tolist() == [state]
    assert message in at.error[0].value
    assert "Traceback" not in at.error[0].value


def test_without_trials_csv_the_champion_and_its_manifest_still_show(
    monkeypatch, finished, tmp_path
):
    runs = tmp_path / "runs"
    _no_trials(copy_run(finished.run_dir, runs))
    at = open_page(monkeypatch, finished.lake, runs)
    assert len(at.error) == 1 and "Champion" in texts(at.subheader)
    assert at.download_button(key=f"opt.manifest.{RUN}").label == "Download paper manifest (JSON)"


def test_an_empty_runs_folder_says_how_to_start(monkeypatch, finished, tmp_path):
    at = open_page(monkeypatch, finished.lake, tmp_path / "none")
    assert not at.exception
    assert any(text.startswith("No runs in ") for text in texts(at.info))


def test_a_folder_that_is_no_run_is_not_listed(finished: FinishedRun, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    copy_run(finished.run_dir, tmp_path)
    assert [view.name for view in runs_view.list_runs(tmp_path)] == [RUN]
