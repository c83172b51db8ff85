"""A worker's studies read and written straight from the journal file: the lines Optuna's
`JournalStorage` writes, without replaying them through it on every call.

A worker needs little of a study: its records by slot, its user attrs, and to append a record
or an attr. `JournalStorage` re-reads the file after every write and rebuilds each trial in
full, each parameter's distribution parsed again from its JSON string: more than a tenth of
a backtest per trial, paid by each worker for every worker's trials. `StudyLog` writes the
same `create_trial` lines (with orjson) and `set_study_user_attr` lines, and reads each line
once: another process's line parsed, with the study's search space shared; its own line not
parsed at all (the log it encoded stands in for it).

Why the records are the ones Optuna's replay (`JournalStorageReplayResult`) builds: barlake
creates every trial finished, in one `create_trial` line (`Study.add_trial`), and the replay
ignores any later update of a finished trial, so that one line is the whole trial, built here
by the replay's rules: parameters to external form, times to naive local, study ids counting
the `create_study` lines whose name no live study has, trial ids counting the `create_trial`
lines of live studies, numbers counting a study's. Trials created unfinished are never
barlake's and are skipped. A study's attrs change only by `set_study_user_attr`, one key per
line, as in the replay. Tests hold the lines written equal to Optuna's, and the ids, records
and attrs read equal to what `JournalStorage` reads from the same file.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optuna.distributions import BaseDistribution, distribution_to_json, json_to_distribution
from optuna.trial import FrozenTrial, TrialState

from barlake.optimize.journal import JOURNAL_FILE, JournalFile, decode_line, encode_line
from barlake.optimize.studies import FINISHED, StudyView, open_studies

# Optuna's `JournalOperation` codes: the journal's file format, which optuna-dashboard reads too.
CREATE_STUDY = 0
DELETE_STUDY = 1
SET_STUDY_USER_ATTR = 2
CREATE_TRIAL = 4


class StudyLog:
    """Some studies of one journal file, as one process reads and writes them."""

    def __init__(self, path: Path | str, names: list[str]) -> None:
        self.worker_id = f"barlake-{uuid.uuid4()}"
        self.ids: dict[str, int] = {}
        self.attrs: dict[int, dict[str, Any]] = {}
        self.records: dict[int, dict[int, FrozenTrial]] = {}
        self._file = JournalFile(path)
        self._names = set(names)
        self._read = 0  # lines read
        self._live: dict[str, int] = {}  # the ids of the studies not deleted, by name
        self._next_study = 0  # Optuna's next study id
        self._numbers: dict[int, int] = {}  # the next trial number of each live study
        self._trials = 0  # Optuna's next trial id
        self._parsed: dict[tuple[tuple[str, str], ...], dict[str, BaseDistribution]] = {}
        self._dumped: dict[int, tuple[dict[str, BaseDistribution], dict[str, str]]] = {}
        self._mine: dict[bytes, tuple[dict[str, Any], dict[str, BaseDistribution]]] = {}
        self.poll()
        missing = self._names - set(self.ids)
        if missing:
            raise KeyError(f"no studies {sorted(missing)} in {path}")

    def poll(self) -> None:
        """Read the lines appended since the last call, by any process. A line this process
        wrote is not parsed again: the log it was encoded from stands in for it."""
        for line in self._file.read_lines(self._read):
            self._read += 1
            mine = self._mine.pop(line, None)
            if mine is None:
                self._apply(decode_line(line), None)
            else:
                self._apply(*mine)

    def _apply(self, log: dict[str, Any], space: dict[str, BaseDistribution] | None) -> None:
        """One line, by the replay's rules (`space`: the trial's distributions, when this
        process wrote it). A line about a study that does not exist changes nothing."""
        op, study = log["op_code"], log.get("study_id")
        if op == CREATE_STUDY and log["study_name"] not in self._live:
            self._create_study(log["study_name"])
        elif study not in self._numbers:
            return
        elif op == CREATE_TRIAL:
            self._trials += 1
            self._numbers[study] += 1
            if study in self.records:
                self._take(study, log, space)
        elif op == SET_STUDY_USER_ATTR and study in self.attrs:
            self.attrs[study].update(log["user_attr"])
        elif op == DELETE_STUDY:
            del self._numbers[study]
            self._live = {k: v for k, v in self._live.items() if v != study}

    def _create_study(self, name: str) -> None:
        study = self._live[name] = self._next_study
        self._next_study += 1
        self._numbers[study] = 0
        if name in self._names and name not in self.ids:
            self.ids[name] = study
            self.attrs[study] = {}
            self.records[study] = {}

    def add_trial(self, study: int, trial: FrozenTrial) -> None:
        """Append a finished trial as `Study.add_trial` does on a `JournalStorage`. Its values
        and attrs must hold only what JSON holds and reads back unchanged (finite numbers,
        strings, lists, dicts with string keys), as a worker's records do: this process reads
        its own line back from the log it encoded."""
        many = trial.values is not None and len(trial.values) > 1
        log: dict[str, Any] = {
            "op_code": CREATE_TRIAL,
            "worker_id": self.worker_id,
            "study_id": study,
            "datetime_start": _iso(trial.datetime_start),
            "state": int(trial.state),
            "value": None if many else trial.value,
            "values": trial.values if many else None,
        }
        if trial.datetime_complete is not None:
            log["datetime_complete"] = _iso(trial.datetime_complete)
        space = trial.distributions
        log["distributions"] = self._dump(space)
        log["params"] = {k: space[k].to_internal_repr(v) for k, v in trial.params.items()}
        log["user_attrs"] = trial.user_attrs
        log["system_attrs"] = trial.system_attrs
        log["intermediate_values"] = trial.intermediate_values
        line = encode_line(log)
        self._file.append_lines(line)
        self._mine[line] = (log, space)

    def set_attr(self, study: int, key: str, value: Any) -> None:
        """Append one study user attr as `Study.set_user_attr` does."""
        log = {"op_code": SET_STUDY_USER_ATTR, "worker_id": self.worker_id, "study_id": study}
        self._file.append_logs([log | {"user_attr": {key: value}}])

    def _take(
        self, study: int, log: dict[str, Any], space: dict[str, BaseDistribution] | None
    ) -> None:
        """Keep a finished trial that holds a slot not recorded before (`space`: its
        distributions, when this process wrote it)."""
        state = TrialState(log.get("state", TrialState.RUNNING))
        slot = log.get("user_attrs", {}).get("slot")
        records = self.records[study]
        if state not in FINISHED or slot is None or int(slot) in records:
            return
        if space is None:
            space = self._parse(log.get("distributions", {}))
        records[int(slot)] = FrozenTrial(
            number=self._numbers[study] - 1,
            trial_id=self._trials - 1,
            state=state,
            params={k: space[k].to_external_repr(p) for k, p in log.get("params", {}).items()},
            distributions=space,
            user_attrs=log.get("user_attrs", {}),
            system_attrs=log.get("system_attrs", {}),
            value=log.get("value"),
            values=log.get("values"),
            intermediate_values={int(k): v for k, v in log.get("intermediate_values", {}).items()},
            datetime_start=_local(log["datetime_start"]),
            datetime_complete=_local(log.get("datetime_complete")),
        )

    def _parse(self, dumped: dict[str, str]) -> dict[str, BaseDistribution]:
        """Distributions are immutable: the trials of a study share one search space."""
        key = tuple(dumped.items())
        found = self._parsed.get(key)
        if found is None:
            found = self._parsed[key] = {k: json_to_distribution(v) for k, v in key}
        return found

    def _dump(self, space: dict[str, BaseDistribution]) -> dict[str, str]:
        """A worker records every trial of a study with the same search space object."""
        known = self._dumped.get(id(space))
        if known is None:
            dumped = {k: distribution_to_json(d) for k, d in space.items()}
            known = self._dumped[id(space)] = (space, dumped)  # holding `space` keeps its id
        return known[1]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


def _local(text: str | None) -> datetime | None:
    """As the replay reads times: naive, in local time."""
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone().replace(tzinfo=None)


@dataclass
class LogRef:
    """One study of a `StudyLog`, with the surface of `StudyRef` that a worker uses."""

    name: str
    strategy: str
    fold: int
    log: StudyLog

    @property
    def study_id(self) -> int:
        return self.log.ids[self.name]

    @property
    def by_slot(self) -> dict[int, FrozenTrial]:
        return self.log.records[self.study_id]

    def refresh(self) -> dict[int, FrozenTrial]:
        self.log.poll()
        return self.by_slot

    def attrs(self) -> dict[str, Any]:
        """The study's user attrs as of now (the live dict: read, do not change)."""
        self.log.poll()
        return self.log.attrs[self.study_id]

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs().get(key, default)

    def add_trial(self, trial: FrozenTrial) -> None:
        self.log.add_trial(self.study_id, trial)

    def set_attr(self, key: str, value: Any) -> None:
        self.log.set_attr(self.study_id, key, value)


def open_views(url: str | None, run_dir: Path, studies: list[dict[str, Any]]) -> list[StudyView]:
    """The run's studies (context.json's `studies` list) as a worker or the status watcher
    reads them: through one `StudyLog` on the journal file, or as Optuna studies on a
    database."""
    if url is not None:
        return list(open_studies(url, studies))
    log = StudyLog(run_dir / JOURNAL_FILE, [item["name"] for item in studies])
    return [LogRef(item["name"], item["strategy"], item["fold"], log) for item in studies]
