"""A worker: one OS process that claims trial slots, backtests them on the train part and
records each result in one write, until every study is done, the time budget is spent or a
stop is requested (stop.flag, or the study's stop attr for workers on other machines).

Each worker runs one trial at a time in one thread (the engine's kernels are serial), ignores
Ctrl+C (the parent turns it into a stop request, so the current trial always finishes) and
appends `trial` and `worker_finished` events to progress.jsonl, the latter with its timings.
"""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import socket
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from barlake.optimize.claims import open_claims
from barlake.optimize.context import load_bars, run_config
from barlake.optimize.evaluate import Evaluator, kept
from barlake.optimize.journal import quiet_optuna
from barlake.optimize.params import backtest_options, strategy_params
from barlake.optimize.plan import Plan
from barlake.optimize.rundir import CLAIMS, RunDir
from barlake.optimize.sampling import Mirror, generation_seed, make_sampler
from barlake.optimize.space import search_space
from barlake.optimize.studies import (
    CONSTRAINT,
    SESSION,
    STOP,
    StudyView,
    publish_generation,
    read_generation,
)
from barlake.optimize.studylog import open_views
from barlake.optimize.windows import windows_of
from barlake.strategies import get_strategy

REMOTE_STOP_CHECK_S = 2.0
TAKEOVER_CHECK_S = 1.0
MAX_WAIT_S = 0.05


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process is started with (picklable for `spawn`)."""

    run_dir: str
    session: str
    index: int
    deadline: float
    lake: str | None = None
    storage: str | None = None
    parent_pid: int | None = None  # a worker whose parent died stops (None: same process)


@dataclass
class Task:
    plan: Plan
    slot: int
    generation: int
    proposal: dict[str, Any]


class Worker:
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.run = RunDir.open(spec.run_dir)
        context = self.run.context()
        self.config = run_config(context, spec.storage)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{spec.index}"
        self.claims = open_claims(self.config.storage, self.run.file(CLAIMS))
        self.evaluator = Evaluator(
            load_bars(context, spec.lake), windows_of(context), self.config.timeframe
        )
        studies = open_views(self.config.storage, self.run.path, context["studies"])
        self.plans = [self._plan(ref, i) for i, ref in enumerate(studies)]
        self.timing = dict.fromkeys(("evaluate", "record", "coordinate", "sample", "wait"), 0.0)
        self.trials = 0
        self._last_remote_check = time.monotonic()

    def _plan(self, ref: StudyView, order: int) -> Plan:
        strategy = get_strategy(ref.strategy)
        space = search_space(strategy, self.config.modes)
        ref.refresh()
        reverse = self.spec.index % 2 == 1  # every other worker walks the slots downwards
        plan = Plan(ref, strategy, space, self.config.batch, self.config.max_trials, order, reverse)
        plan.advance()
        return plan

    def run_loop(self) -> str:
        """Work until done; returns why it stopped: done, stopped or time_budget."""
        pause = 0.001
        while True:
            reason = self._should_stop()
            if reason:
                return reason
            started, sampled = time.perf_counter(), self.timing["sample"]
            task = self._next_task()
            spent = time.perf_counter() - started - (self.timing["sample"] - sampled)
            self.timing["coordinate"] += spent  # claims, reads, publishing; sampling apart
            if task is None:
                if all(p.done for p in self.plans):
                    return "done"
                time.sleep(pause)
                self.timing["wait"] += pause
                pause = min(pause * 2, MAX_WAIT_S)
                continue
            pause = 0.001
            self._run_task(task)

    def _should_stop(self) -> str | None:
        if self.run.stop_requested():
            return "stopped"
        if time.time() >= self.spec.deadline:
            return "time_budget"
        if self.spec.parent_pid is not None and os.getppid() != self.spec.parent_pid:
            return "orphaned"
        now = time.monotonic()
        if now - self._last_remote_check >= REMOTE_STOP_CHECK_S:
            self._last_remote_check = now
            attrs = self.plans[0].ref.attrs()
            if attrs.get(STOP) == self.spec.session or attrs.get(SESSION) != self.spec.session:
                return "stopped"
        return None

    def _next_task(self) -> Task | None:
        for plan in sorted((p for p in self.plans if not p.done), key=Plan.sort_key):
            task = self._task_in(plan)
            if task is not None:
                return task
        return None

    def _task_in(self, plan: Plan) -> Task | None:
        """A task from what this worker knows; failing that, from a fresh look at the study
        (others may have finished the generation or published the next one)."""
        task = self._try(plan)
        if task is None and not plan.done:
            plan.ref.refresh()
            task = self._try(plan)
        return task

    def _try(self, plan: Plan) -> Task | None:
        generation = plan.advance()
        if generation is None:
            return None
        proposals = self._proposals(plan, generation)
        if proposals is None:
            return None
        slot = self._claim_slot(plan, generation)
        if slot is None:
            slot = self._takeover_slot(plan, generation)
        if slot is None:
            return None
        offset = slot - plan.slots(generation).start
        return Task(plan, slot, generation, proposals[offset])

    def _claim_slot(self, plan: Plan, generation: int) -> int | None:
        """The next slot of this worker's walk that nobody recorded or claimed."""
        walk = plan.walk(generation)
        for step in range(plan.cursor.get(generation, 0), len(walk)):
            plan.cursor[generation] = step + 1
            slot = walk[step]
            if slot not in plan.ref.by_slot and self.claims.take(
                plan.ref.name, f"s{slot}", self.spec.session, self.id
            ):
                return slot
        return None

    def _takeover_slot(self, plan: Plan, generation: int) -> int | None:
        """A slot claimed longer than claim_timeout ago and still unrecorded (a dead worker's)."""
        now = time.monotonic()
        if now - plan.last_takeover_check < TAKEOVER_CHECK_S:
            return None
        plan.last_takeover_check = now
        for slot in plan.missing(generation):
            if self._take_over(plan.ref.name, f"s{slot}"):
                return slot
        return None

    def _take_over(self, study: str, key: str) -> bool:
        latest = self.claims.latest(study, key, self.spec.session)
        if latest is None or latest[1] < self.config.claim_timeout:
            return False
        return self.claims.take(study, key, self.spec.session, self.id, latest[0] + 1)

    def _proposals(self, plan: Plan, generation: int) -> list[dict[str, Any]] | None:
        """The generation's published proposals; sampled here if this worker wins its claim."""
        if generation in plan.proposals:
            return plan.proposals[generation]
        published = read_generation(plan.ref, generation)
        if published is None:
            key, name = f"g{generation}", plan.ref.name
            if not (
                self.claims.take(name, key, self.spec.session, self.id)
                or self._take_over(name, key)
            ):
                return None
            started = time.perf_counter()
            # as the other workers read them from the study: plain JSON types
            published = json.loads(json.dumps(self._sample(plan, generation)))
            self.timing["sample"] += time.perf_counter() - started
            publish_generation(plan.ref, generation, published)
        plan.proposals[generation] = published
        return published

    def _sample(self, plan: Plan, generation: int) -> list[dict[str, Any]]:
        plan.mirror = plan.mirror or Mirror()
        plan.mirror.catch_up(plan.ref.by_slot, plan.slots(generation).start)
        seed = generation_seed(self.config.seed, plan.strategy.name, plan.ref.fold, generation)
        sampler = make_sampler(self.config.sampler, seed, self.config.batch)

        def valid(params: dict[str, Any]) -> bool:
            return plan.strategy.violated(strategy_params(plan.strategy, params)) is None

        return plan.mirror.sample(sampler, plan.space, len(plan.slots(generation)), valid)

    def _run_task(self, task: Task) -> None:
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        stats, note = self._evaluate(task)
        seconds = time.perf_counter() - started
        self.timing["evaluate"] += seconds
        record = self._record(task, stats, note, started_at, seconds)
        started = time.perf_counter()
        task.plan.ref.add_trial(record)
        self.timing["record"] += time.perf_counter() - started
        self.trials += 1
        train = record.user_attrs["train"] or {}
        self.run.event(
            "trial",
            study=task.plan.ref.name,
            strategy=task.plan.strategy.name,
            fold=task.plan.ref.fold,
            slot=task.slot,
            state=record.state.name,
            train_return_pct=train.get("total_return_pct"),
            train_max_dd_pct=train.get("max_drawdown_pct"),
            train_trades=train.get("trades"),
            worker=self.id,
        )

    def _evaluate(self, task: Task) -> tuple[dict[str, float] | None, str | None]:
        """Train stats, or None and why: parameters that break a constraint are not run; an
        error in a backtest, or an objective that is not a finite number, fails that trial
        (recorded with the message), not the worker."""
        params = task.proposal["params"]
        if not task.proposal["valid"]:
            return None, "parameters break the strategy's constraints"
        try:
            values = strategy_params(task.plan.strategy, params)
            options = backtest_options(params, self.config)
            stats = self.evaluator.train(
                task.plan.ref.fold, task.plan.strategy.name, values, options
            )
        except Exception as exc:  # recorded on the trial and in progress.jsonl, never hidden
            return None, f"{type(exc).__name__}: {exc}"
        objectives = [stats["total_return_pct"], stats["max_drawdown_pct"]]
        if not all(math.isfinite(v) for v in objectives):
            return None, f"the objectives are not finite numbers: {objectives}"
        return stats, None

    def _record(
        self,
        task: Task,
        stats: dict[str, float] | None,
        note: str | None,
        started_at: datetime,
        seconds: float,
    ) -> FrozenTrial:
        user = {"slot": task.slot, "generation": task.generation, "worker": self.id}
        user |= {"session": self.spec.session, "seconds": seconds}
        user |= {"train": kept(stats) if stats else None, "note": note}
        system = dict(task.proposal["system_attrs"])
        values = None
        if stats is not None:
            values = [float(stats["total_return_pct"]), float(stats["max_drawdown_pct"])]
            system[CONSTRAINT] = float(self.config.min_trades - stats["trades"])
        return FrozenTrial(
            number=0,
            state=TrialState.COMPLETE if stats is not None else TrialState.FAIL,
            value=None,
            values=values,
            datetime_start=started_at,
            datetime_complete=datetime.now(UTC),
            params=task.proposal["params"],
            distributions=task.plan.space,
            user_attrs=user,
            system_attrs=system,
            intermediate_values={},
            trial_id=0,
        )


def work(spec: WorkerSpec) -> str:
    """Run one worker in this process; the reason it stopped is also in progress.jsonl."""
    quiet_optuna()
    run = RunDir.open(spec.run_dir)
    try:
        worker = Worker(spec)
        # The bars, kernels and libraries outlive the loop: out of the collector's sight,
        # its passes over the trials' short-lived objects cost far less.
        gc.freeze()
        reason = worker.run_loop()
    except BaseException:
        run.event("worker_failed", index=spec.index, error=traceback.format_exc())
        raise
    finally:
        gc.unfreeze()
    run.event(
        "worker_finished",
        worker=worker.id,
        reason=reason,
        trials=worker.trials,
        seconds={k: round(v, 6) for k, v in worker.timing.items()},
    )
    return reason


def process_main(spec: WorkerSpec) -> None:
    """Entry point of a worker process: Ctrl+C in the terminal reaches every process of the
    group; the parent turns it into a stop request, so the worker ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    work(spec)
