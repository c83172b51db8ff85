"""Sampling a generation: the parameters of `batch` trial slots at once, from the finished
trials of all earlier generations, with a sampler seeded by (seed, strategy, fold, generation).

The sampler runs on an in-memory mirror of the shared study that holds only whole generations
in slot order. So the proposals depend on the seed and the history alone, not on which worker
samples, how many workers there are, or when their trials arrived: that is what makes a run
reproducible. NSGA-II (the default) then works as its paper describes, generation by
generation; TPE sees the batch's earlier proposals as running trials (constant liar).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.samplers import BaseGASampler, BaseSampler, NSGAIISampler, RandomSampler, TPESampler
from optuna.storages import InMemoryStorage
from optuna.trial import FrozenTrial, TrialState

from barlake.optimize.studies import DIRECTIONS

MAX_DRAWS = 100  # draws per slot to find parameters that meet the strategy's constraints


def generation_seed(seed: int, strategy: str, fold: int, generation: int) -> int:
    """A 32-bit seed per generation, independent of run ids and worker counts."""
    text = f"{seed}|{strategy}|{fold}|{generation}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def make_sampler(name: str, seed: int, population: int) -> BaseSampler:
    """The sampler pinned by name: NSGA-II (population = the batch) or TPE."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            return TPESampler(seed=seed, constant_liar=True, multivariate=True)
        return NSGAIISampler(population_size=max(2, population), seed=seed)


class Mirror:
    """An in-memory study holding the shared study's finished trials of whole generations."""

    def __init__(self) -> None:
        self.study = optuna.create_study(
            storage=InMemoryStorage(), directions=list(DIRECTIONS), sampler=RandomSampler(seed=0)
        )
        self.upto = 0  # slots below this are mirrored

    def catch_up(self, records: dict[int, FrozenTrial], upto: int) -> None:
        """Add the records of slots [self.upto, upto) in slot order (all must exist)."""
        for slot in range(self.upto, upto):
            trial = records[slot]
            if trial.state == TrialState.COMPLETE:
                self.study.add_trial(trial)
        self.upto = max(self.upto, upto)

    def sample(
        self,
        sampler: BaseSampler,
        space: dict[str, BaseDistribution],
        count: int,
        valid: Callable[[dict[str, Any]], bool],
    ) -> list[dict[str, Any]]:
        """`count` proposals {params, system_attrs, valid}; parameters that break the
        strategy's constraints are drawn again (up to MAX_DRAWS times)."""
        self.study.sampler = sampler
        if isinstance(sampler, BaseGASampler):
            self._warm(sampler)
        asked: list[tuple[optuna.Trial, bool]] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            for _ in range(count):
                for draw in range(MAX_DRAWS):
                    trial = self.study.ask(space)
                    ok = valid(trial.params)
                    if ok or draw == MAX_DRAWS - 1:
                        break
                    self.study.tell(trial, state=TrialState.FAIL)
                asked.append((trial, ok))
            frozen = self.study.get_trials(deepcopy=False)
            proposals = [_proposal(frozen[t.number], t, ok) for t, ok in asked]
            for trial, _ in asked:
                self.study.tell(trial, state=TrialState.FAIL)  # placeholders: the records follow
        return proposals

    def _warm(self, sampler: BaseGASampler) -> None:
        """Fill NSGA-II's parent-population cache generation by generation, in order.

        A parent population is cached the first time it is computed, in a different order
        than when it is computed on the fly, and the next generation's selection depends on
        that order. A worker that samples every generation fills the cache in order; one that
        joins late or skipped generations would not. Filling it in order here makes every
        mirror hold the same cache, so any worker samples what a lone worker would."""
        complete = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        top = max((sampler.get_trial_generation(self.study, t) for t in complete), default=0)
        for generation in range(1, top + 1):
            sampler.get_parent_population(self.study, generation)


def _proposal(frozen: FrozenTrial, trial: optuna.Trial, ok: bool) -> dict[str, Any]:
    """What a slot needs: the parameters and the sampler's bookkeeping (NSGA-II's generation)."""
    attrs = {k: v for k, v in frozen.system_attrs.items() if k != "fixed_params"}
    return {"params": tidy(trial.params, frozen.distributions), "system_attrs": attrs, "valid": ok}


def tidy(params: dict[str, Any], space: dict[str, BaseDistribution]) -> dict[str, Any]:
    """Stepped floats rounded to 10 decimals (2.4, not 2.4000000000000004): the same grid
    point, readable in the CSVs and the manifest."""
    out = dict(params)
    for name, dist in space.items():
        if isinstance(dist, FloatDistribution) and dist.step is not None:
            out[name] = round(float(out[name]), 10)
    return out
