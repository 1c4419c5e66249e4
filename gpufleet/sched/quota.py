"""Quota accounting for Kueue-style ClusterQueues: nominal quota per flavor, cohorts that
lend unused quota, borrowing and lending limits.

For a queue q and flavor f:

- guaranteed = nominal - lending_limit (what q never lends; 0 with no lending limit),
- lendable = nominal - guaranteed (what q puts in its cohort's pool),
- a job of g GPUs is admitted if usage + g <= nominal + borrowing_limit, and the part of
  q's usage above its guaranteed quota still fits in the cohort pool:
  sum over members of max(0, usage - guaranteed) <= sum over members of lendable.

Every queue whose cohorts share a root shares one pool (the cohort tree's root is the
sharing domain; limits are per queue). A queue without a cohort is its own pool, so it
can use exactly its nominal quota. With no queues configured there is one queue with no
quota at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from gpufleet.spec.scheduler import CohortSpec, QueueSpec

UNLIMITED = math.inf
NOMINAL, BORROWING, COHORT_LENT = 0, 1, 2
"""The limits that stop an admission (`QuotaBook.why_not`, `limit_reason`)."""


class QuotaBook:
    """GPU usage per queue and flavor against nominal quota and cohort pools."""

    def __init__(self, queues: list[QueueSpec], cohorts: list[CohortSpec], flavors: list[str]) -> None:
        self.flavors = flavors
        upper = [flavor.upper() for flavor in flavors]
        self.unlimited = not queues
        if self.unlimited:
            queues = [QueueSpec(name="default", tenants=["*"])]
        self.names = [queue.name for queue in queues]
        self.specs = queues
        n_flavors = len(flavors)

        def per_flavor(values: dict[str, int], missing: float) -> list[float]:
            by_upper = {name.upper(): float(value) for name, value in values.items()}
            return [by_upper.get(name, missing) for name in upper]

        self.nominal = [per_flavor(q.nominal, UNLIMITED if self.unlimited else 0.0) for q in queues]
        self.cap = [[n + b for n, b in zip(nominal, per_flavor(q.borrowing_limit, UNLIMITED), strict=True)]
                    for nominal, q in zip(self.nominal, queues, strict=True)]
        lending = [per_flavor(q.lending_limit, UNLIMITED) for q in queues]
        self.guaranteed = [[max(n - min(lent, n), 0.0) for n, lent in zip(nominal, lend, strict=True)]
                           for nominal, lend in zip(self.nominal, lending, strict=True)]
        parent = {cohort.name: cohort.parent for cohort in cohorts}

        def root(name: str | None, queue: int) -> str:
            if name is None:
                return f"queue:{queue}"
            seen: set[str] = set()
            while (up := parent.get(name)) is not None and name not in seen:
                seen.add(name)
                name = up
            return f"cohort:{name}"

        roots = [root(q.cohort, index) for index, q in enumerate(queues)]
        self.pool_names = sorted(set(roots))
        self.pool_of = [self.pool_names.index(name) for name in roots]
        self.usage = [[0.0] * n_flavors for _ in queues]
        self.pool_capacity = [[0.0] * n_flavors for _ in self.pool_names]
        self.pool_usage = [[0.0] * n_flavors for _ in self.pool_names]
        for q, pool in enumerate(self.pool_of):
            for f in range(n_flavors):
                self.pool_capacity[pool][f] += self.nominal[q][f] - self.guaranteed[q][f]

    @property
    def n_queues(self) -> int:
        return len(self.names)

    def members(self, q: int) -> list[int]:
        """Queues sharing q's cohort pool (q included)."""
        return [other for other, pool in enumerate(self.pool_of) if pool == self.pool_of[q]]

    def fits(self, q: int, f: int, gpus: float) -> bool:
        """Whether queue q may admit `gpus` more GPUs of flavor f now."""
        if self.unlimited:
            return True
        used = self.usage[q][f]
        if used + gpus > self.cap[q][f]:
            return False
        guaranteed = self.guaranteed[q][f]
        extra = max(used + gpus - guaranteed, 0.0) - max(used - guaranteed, 0.0)
        pool = self.pool_of[q]
        return self.pool_usage[pool][f] + extra <= self.pool_capacity[pool][f]

    def why_not(self, q: int, f: int, gpus: float) -> str:
        """Which limit stops the admission (for the job's reason)."""
        if self.usage[q][f] + gpus > self.cap[q][f]:
            return self.limit_reason(q, f, NOMINAL if self.nominal[q][f] == self.cap[q][f] else BORROWING)
        return self.limit_reason(q, f, COHORT_LENT)

    def limit_reason(self, q: int, f: int, limit: int) -> str:
        """The reason a job waits when `limit` (NOMINAL, BORROWING, COHORT_LENT) of queue q's
        flavor f stops it."""
        flavor = self.flavors[f]
        if limit == NOMINAL:
            return f"quota: {flavor} nominal {self.nominal[q][f]:g} of queue {self.names[q]} reached"
        if limit == BORROWING:
            return f"quota: {flavor} borrowing limit of queue {self.names[q]} reached"
        return f"quota: {flavor} cohort pool of queue {self.names[q]} lent out"

    def within_nominal(self, q: int, f: int, gpus: float) -> bool:
        """Whether the queue would stay within its own nominal quota."""
        return self.usage[q][f] + gpus <= self.nominal[q][f]

    def borrowing(self, q: int, f: int) -> bool:
        """Whether the queue uses more than its nominal quota of flavor f."""
        return self.usage[q][f] > self.nominal[q][f]

    @contextmanager
    def without(self, held: Iterable[tuple[int, int, float]]) -> Iterator[QuotaBook]:
        """The book with the usages `held` ((queue, flavor, GPUs) each) taken out, for a trial
        admission; they are put back, in the same order, when the block ends (even on error)."""
        returned = list(held)
        for q, f, gpus in returned:
            self.remove(q, f, gpus)
        try:
            yield self
        finally:
            for q, f, gpus in returned:
                self.add(q, f, gpus)

    def add(self, q: int, f: int, gpus: float) -> None:
        self._move(q, f, gpus)

    def remove(self, q: int, f: int, gpus: float) -> None:
        self._move(q, f, -gpus)

    def _move(self, q: int, f: int, gpus: float) -> None:
        if self.unlimited:
            return
        used, guaranteed = self.usage[q][f], self.guaranteed[q][f]
        self.pool_usage[self.pool_of[q]][f] += max(used + gpus - guaranteed, 0.0) - max(used - guaranteed, 0.0)
        self.usage[q][f] = used + gpus
