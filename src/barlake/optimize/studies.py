"""One Optuna study per (fold, strategy) in the run's storage, and what barlake keeps in them.

A finished trial is one record created in a single write (`Study.add_trial`): parameters, the
two objective values, the minimum-trades constraint and the train stats. Its `slot` user attr is
barlake's trial number: slots are assigned before sampling, so the same seed gives the same
trial in the same slot however many workers ran and in whatever order they finished (Optuna's
own `number` is the arrival order). The study's user attrs hold the current session, a stop
request and the open generation's sampled parameters, all readable in optuna-dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import optuna
from optuna.storages import BaseStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

DIRECTIONS = [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE]  # train return %, train max DD %
SESSION = "barlake:session"
STOP = "barlake:stop"
PROPOSALS = (
    "barlake:proposals"  # the open generation's sampled parameters (one key: attrs stay small)
)
CONSTRAINT = "constraints:min_trades"  # Optuna reads `constraints:<name>` (<= 0 is feasible)
FINISHED = (TrialState.COMPLETE, TrialState.FAIL)


def study_name(run_id: str, strategy: str, fold: int, folds: int) -> str:
    return f"{run_id}.{strategy}" + (f".fold{fold}" if folds > 1 else "")


@dataclass
class StudyRef:
    """A study of the run and an incremental view of its records by slot."""

    name: str
    strategy: str
    fold: int
    study: optuna.Study
    by_slot: dict[int, FrozenTrial] = field(default_factory=dict)
    _seen: int = 0

    def refresh(self) -> dict[int, FrozenTrial]:
        """Records by slot, reading only trials added since the last call; a slot recorded
        twice (a takeover that raced the original worker) keeps its first record."""
        trials = self.study.get_trials(deepcopy=False)
        for trial in trials[self._seen :]:
            slot = trial.user_attrs.get("slot")
            if trial.state in FINISHED and slot is not None and slot not in self.by_slot:
                self.by_slot[int(slot)] = trial
        self._seen = len(trials)
        return self.by_slot

    def attrs(self) -> dict[str, Any]:
        """The study's user attrs as of now."""
        return self.study.user_attrs

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs().get(key, default)

    def add_trial(self, trial: FrozenTrial) -> None:
        self.study.add_trial(trial)

    def set_attr(self, key: str, value: Any) -> None:
        self.study.set_user_attr(key, value)


class StudyView(Protocol):
    """What a worker reads and writes of a study: a `StudyRef`, or a `studylog.LogRef` that
    reads the journal file directly."""

    name: str
    strategy: str
    fold: int

    @property
    def by_slot(self) -> dict[int, FrozenTrial]: ...

    def refresh(self) -> dict[int, FrozenTrial]: ...

    def attrs(self) -> dict[str, Any]: ...

    def attr(self, key: str, default: Any = None) -> Any: ...

    def add_trial(self, trial: FrozenTrial) -> None: ...

    def set_attr(self, key: str, value: Any) -> None: ...


def open_studies(
    storage: BaseStorage | str, names: list[dict[str, Any]], *, create: bool = False
) -> list[StudyRef]:
    """The run's studies from context.json's `studies` list (created on a fresh run)."""
    refs = []
    for item in names:
        if create:
            study = optuna.create_study(
                storage=storage,
                study_name=item["name"],
                directions=list(DIRECTIONS),
                load_if_exists=True,
            )
            study.set_user_attr("barlake:strategy", item["strategy"])
            study.set_user_attr("barlake:fold", item["fold"])
        else:
            study = optuna.load_study(study_name=item["name"], storage=storage)
        refs.append(StudyRef(item["name"], item["strategy"], item["fold"], study))
    return refs


def set_session(refs: list[StudyRef], session: str) -> None:
    for ref in refs:
        ref.set_attr(SESSION, session)


def request_stop(refs: list[StudyRef], session: str) -> None:
    """Workers on every machine stop after their current trial when they next look."""
    for ref in refs:
        ref.set_attr(STOP, session)


def publish_generation(ref: StudyView, generation: int, proposals: list[dict[str, Any]]) -> None:
    """Replace the previous generation's proposals: a generation is published only once the
    one before it is fully recorded, so nobody needs those any more."""
    ref.set_attr(PROPOSALS, {"generation": generation, "proposals": proposals})


def read_generation(ref: StudyView, generation: int) -> list[dict[str, Any]] | None:
    data = ref.attr(PROPOSALS)
    if isinstance(data, dict) and data.get("generation") == generation:
        return data["proposals"]
    return None
