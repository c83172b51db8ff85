"""A worker's view of one study: which generation is open, its proposals, the next slot to try.

Slots are numbered 0..max_trials-1 and cut into generations of `batch` slots. A generation is
open when every slot before it is recorded; its proposals are sampled once (by whichever
worker claims the generation) and published in the study, so every worker runs the same
parameters in the same slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optuna.distributions import BaseDistribution

from barlake.optimize.sampling import Mirror
from barlake.optimize.studies import StudyView
from barlake.strategies import Strategy


@dataclass
class Plan:
    ref: StudyView
    strategy: Strategy
    space: dict[str, BaseDistribution]
    batch: int
    max_trials: int
    order: int = 0
    reverse: bool = False
    mirror: Mirror | None = None
    proposals: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    cursor: dict[int, int] = field(default_factory=dict)
    low: int = 0  # every slot below is recorded
    last_takeover_check: float = 0.0

    def advance(self) -> int | None:
        """Move `low` past recorded slots; the open generation, or None when all are recorded."""
        recorded = self.ref.by_slot
        while self.low < self.max_trials and self.low in recorded:
            self.low += 1
        return None if self.low >= self.max_trials else self.low // self.batch

    @property
    def done(self) -> bool:
        return self.low >= self.max_trials

    def slots(self, generation: int) -> range:
        start = generation * self.batch
        return range(start, min(start + self.batch, self.max_trials))

    def walk(self, generation: int) -> range:
        """The generation's slots in the order this worker tries to claim them (`cursor`
        counts the ones tried). Workers walking in opposite directions meet once instead of
        contending for every slot."""
        slots = self.slots(generation)
        return slots[::-1] if self.reverse else slots

    def missing(self, generation: int) -> list[int]:
        """Slots of the generation with no record yet (claimed or not)."""
        return [s for s in self.slots(generation) if s not in self.ref.by_slot]

    def sort_key(self) -> tuple[int, int]:
        """Least progress first, so strategies advance together and a time budget cuts them
        evenly."""
        return (self.low, self.order)
