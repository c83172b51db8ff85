"""A worker's direct view of the journal: the lines it writes are the lines Optuna writes for
the same trial, and what it reads back is what Optuna's replay reads from the same file."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from barlake.optimize.journal import JournalFile
from barlake.optimize.studies import DIRECTIONS, FINISHED
from barlake.optimize.studylog import StudyLog

SPACE = {
    "fast": IntDistribution(2, 50),
    "tp_pct": FloatDistribution(0.2, 10.0, step=0.1),
    "mode": CategoricalDistribution(("none", "grid", "martingale")),
}
START = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


class Lines(BaseJournalBackend):
    """The logs a `JournalStorage` hands its backend, kept as JSON would keep them."""

    def __init__(self) -> None:
        self.logs: list[dict[str, Any]] = []

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        yield from self.logs[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self.logs.extend(json.loads(json.dumps(log)) for log in logs)


def record(
    slot: int, state: TrialState = TrialState.COMPLETE, values: list[float] | None = None
) -> FrozenTrial:
    """A trial as a worker records it: finished, with its slot and train stats."""
    done = state == TrialState.COMPLETE
    return FrozenTrial(
        number=0,
        state=state,
        value=None,
        values=(values or [1.5 + slot, 0.25]) if done else None,
        datetime_start=START + timedelta(seconds=slot),
        datetime_complete=START + timedelta(seconds=slot, milliseconds=3),
        params={"fast": 5 + slot, "tp_pct": 2.4, "mode": "grid"},
        distributions=SPACE,
        user_attrs={"slot": slot, "train": {"trades": 7, "sharpe": None} if done else None},
        system_attrs={"nsga2:generation": 1, "constraints:min_trades": -4.0},
        intermediate_values={},
        trial_id=0,
    )


def without_worker(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in log.items() if k != "worker_id"} for log in logs]


def test_a_worker_writes_the_very_lines_optuna_writes_for_a_record_and_an_attr(tmp_path):
    lines = Lines()
    theirs = optuna.create_study(
        storage=JournalStorage(lines), study_name="s", directions=DIRECTIONS
    )
    path = tmp_path / "optuna.journal"
    optuna.create_study(
        storage=JournalStorage(JournalFile(path)), study_name="s", directions=DIRECTIONS
    )
    ours = StudyLog(path, ["s"])
    for trial in (record(0), record(1, TrialState.FAIL)):
        theirs.add_trial(trial)
        ours.add_trial(ours.ids["s"], trial)
    theirs.set_user_attr("barlake:proposals", {"generation": 1, "proposals": [{"a": 1}]})
    ours.set_attr(ours.ids["s"], "barlake:proposals", {"generation": 1, "proposals": [{"a": 1}]})
    written = [json.loads(line) for line in path.read_text().splitlines()]
    assert without_worker(written) == without_worker(lines.logs)


def test_a_worker_reads_the_records_and_attrs_optuna_replays_from_the_same_file(tmp_path):
    path = tmp_path / "optuna.journal"
    storage = JournalStorage(JournalFileBackend(str(path)))
    gone = optuna.create_study(storage=storage, study_name="gone", directions=DIRECTIONS)
    gone.add_trial(record(0))
    a = optuna.create_study(storage=storage, study_name="a", directions=DIRECTIONS)
    optuna.delete_study(study_name="gone", storage=storage)  # its id and trial ids stay used
    optuna.create_study(storage=storage, study_name="b", directions=DIRECTIONS)
    optuna.create_study(storage=storage, study_name="a", load_if_exists=True)  # a second line
    log = StudyLog(path, ["a", "b"])
    log.add_trial(log.ids["a"], record(0))
    a.add_trial(record(1))
    log.poll()  # reads as it goes: what it read before stays right
    log.add_trial(log.ids["b"], record(0, TrialState.FAIL))
    a.add_trial(record(0))  # slot 0 again: the first record stays
    a.tell(a.ask(), [1.0, 2.0])  # created running, without a slot: not a record
    a.add_trial(record(3, values=[math.inf, 0.5]))  # Optuna writes Infinity, not JSON
    a.set_user_attr("barlake:session", "s1")
    log.set_attr(log.ids["b"], "barlake:stop", "s1")
    log.add_trial(log.ids["a"], record(2))
    log.poll()

    replay = JournalStorage(JournalFileBackend(str(path)))
    for name in "ab":
        assert log.ids[name] == replay.get_study_id_from_name(name)
        study = optuna.load_study(study_name=name, storage=replay)
        first: dict[int, FrozenTrial] = {}
        for trial in study.get_trials():
            if trial.state in FINISHED and "slot" in trial.user_attrs:
                first.setdefault(trial.user_attrs["slot"], trial)
        assert log.records[log.ids[name]] == first  # numbers and trial ids included
        assert log.attrs[log.ids[name]] == study.user_attrs
    assert sorted(log.records[log.ids["a"]]) == [0, 1, 2, 3]
    assert log.ids == {"a": 1, "b": 2}
