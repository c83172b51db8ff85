"""The journal file and the claim ledger: what Optuna (and so optuna-dashboard) reads, and
atomic claims shared by processes."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import create_trial

from barlake.optimize.claims import FileClaims
from barlake.optimize.journal import JournalFile
from barlake.optimize.studies import DIRECTIONS

X = optuna.distributions.FloatDistribution(0.0, 1.0)


def add_trials(path: str, name: str, first: int, count: int) -> None:
    storage = JournalStorage(JournalFile(path))
    study = optuna.load_study(study_name=name, storage=storage)
    for i in range(first, first + count):
        study.add_trial(
            create_trial(
                params={"x": i / 1000},
                distributions={"x": X},
                values=[i, -i],
                user_attrs={"slot": i},
            )
        )


def test_optuna_and_the_dashboard_read_the_journal_we_write_and_we_read_theirs(tmp_path):
    ours = str(tmp_path / "ours.journal")
    study = optuna.create_study(
        storage=JournalStorage(JournalFile(ours)), study_name="s", directions=DIRECTIONS
    )
    add_trials(ours, "s", 0, 5)
    study.set_user_attr("barlake:session", "abc")
    theirs = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(ours)))
    assert [t.params["x"] for t in theirs.trials] == [0.0, 0.001, 0.002, 0.003, 0.004]
    assert theirs.user_attrs == {"barlake:session": "abc"}
    theirs.add_trial(create_trial(params={"x": 0.5}, distributions={"x": X}, values=[1.0, 2.0]))
    again = optuna.load_study(study_name="s", storage=JournalStorage(JournalFile(ours)))
    assert len(again.trials) == 6 and again.trials[-1].values == [1.0, 2.0]


def test_a_line_still_being_written_is_not_read_until_it_is_complete(tmp_path):
    path = tmp_path / "j.journal"
    optuna.create_study(
        storage=JournalStorage(JournalFile(path)), study_name="s", directions=DIRECTIONS
    )
    add_trials(str(path), "s", 0, 2)
    whole = path.read_bytes()
    reader = JournalFile(path)
    assert len(list(reader.read_logs(0))) == 3  # the study and two trials
    with path.open("ab") as f:
        f.write(b'{"op_code": 4, "worker_id": "x", "study')  # a writer half-way through a line
    assert list(reader.read_logs(3)) == []
    assert path.read_bytes().startswith(whole)


def test_two_processes_appending_to_one_study_lose_no_trial_and_never_lock_up(tmp_path):
    path = str(tmp_path / "shared.journal")
    optuna.create_study(
        storage=JournalStorage(JournalFile(path)), study_name="s", directions=DIRECTIONS
    )
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=add_trials, args=(path, "s", k * 150, 150)) for k in range(2)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    trials = optuna.load_study(
        study_name="s", storage=JournalStorage(JournalFileBackend(path))
    ).trials
    assert sorted(t.user_attrs["slot"] for t in trials) == list(range(300))
    assert sorted(t.number for t in trials) == list(range(300))
    assert time.monotonic() - started < 60


def test_a_claim_is_held_by_one_worker_and_a_stale_one_can_be_taken_over(tmp_path):
    ledger = tmp_path / "claims.log"
    first, second = FileClaims(ledger), FileClaims(ledger)
    assert first.take("study", "s0", "session1", "w1")
    assert not second.take("study", "s0", "session1", "w2")
    assert second.take("study", "s0", "session2", "w2")  # a new session starts clean
    attempt, age = second.latest("study", "s0", "session1")
    assert attempt == 0 and 0 <= age < 5
    assert second.take("study", "s0", "session1", "w2", attempt=1)  # the takeover
    assert not first.take("study", "s0", "session1", "w1", attempt=1)
    assert first.latest("study", "s1", "session1") is None


def claim_all(ledger: Path, worker: str, out: Path) -> None:
    claims = FileClaims(ledger)
    won = [k for k in range(400) if claims.take("study", f"s{k}", "session", worker)]
    out.write_text(",".join(map(str, won)))


def test_racing_processes_never_claim_the_same_slot(tmp_path):
    ledger = tmp_path / "claims.log"
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"won{k}.txt" for k in range(2)]
    procs = [context.Process(target=claim_all, args=(ledger, f"w{k}", outs[k])) for k in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    won = [set(map(int, filter(None, o.read_text().split(",")))) for o in outs]
    assert not won[0] & won[1]
    assert won[0] | won[1] == set(range(400))
