"""gavel_las and gavel_las_agnostic: Gavel's max-min fairness ("LAS") with its round-based mechanism.

Narayanan et al., OSDI 2020 ("Heterogeneity-Aware Cluster Scheduling Policies for Deep
Learning Workloads"), sections 4.1 and 5. Whenever the set of active jobs (waiting or
running) changes, the policy solves the max-min fairness LP (`sched.maxmin`) for an
allocation X: the fraction of time each job should spend on each GPU type. Time is cut
into rounds (`round_s`, Gavel's 6 minutes). At the start of each round a job's priority
on a type is X[m, j] over the fraction of time it has received there since X was last
computed (a job that has had none ranks first, by X); pairs are taken greedily in
decreasing priority (then larger deficit, larger X, submit order), each job on at most
one type, while the type has GPUs for its gang. Pairs with X = 0 come last, so GPUs do
not idle while a job could use them. A job chosen again for the type it runs on keeps
running (Gavel's lease extension); the others are preempted at the round's end and the
chosen ones start. Nothing starts between rounds.

`gavel_las` is heterogeneity-aware: throughputs are each job class's speed on each type
from the scenario's throughput matrix (`throughput:`), normalised by the job's throughput
under an equal share of every type (X^equal), as the paper's LAS policy.
`gavel_las_agnostic` is Gavel's heterogeneity-agnostic baseline: every throughput is 1,
so types are interchangeable; the LP fixes each job's total share of time, spread over
the types it may use in proportion to their GPUs.
Weights are 1 for every job; a job's scale factor is its GPUs.

Queues' quotas (Kueue-style, `sched.quota`), which Gavel does not have, bound the plan as
they bound admission: a job may be given a type only if its queue could ever admit its
gang there (nominal + borrowing limit, and the cohort pool's lendable GPUs); the LP caps
each queue's GPUs of each type at nominal + borrowing limit and each cohort pool's at its
members' nominal quota (time-averaged: quota is a bound at every instant, the allocation a
share of time); and a round takes a (job, type) pair only while the queue's quota admits
it beside the pairs taken before it, else the job falls back to its next pair. Without
quotas none of this changes anything.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import PositiveFloat

from gpufleet.sched.maxmin import GroupLimit, max_min_allocation
from gpufleet.sched.policies.base import POLICIES, Key, Policy, PolicyContext, PolicyOptions
from gpufleet.sched.quota import QuotaBook


class GavelOptions(PolicyOptions):
    round_s: PositiveFloat = 360.0
    """Length of a scheduling round, seconds (Gavel's default: 6 minutes)."""


@POLICIES.register("gavel_las")
class GavelLasPolicy(Policy):
    """Heterogeneity-aware max-min fairness over effective throughput, in rounds."""

    Options = GavelOptions
    options: GavelOptions
    round_s: float
    preemptive = True
    heterogeneity_aware = True

    def __init__(self, context: PolicyContext) -> None:
        super().__init__(context)
        self.round_s = self.options.round_s
        self.allocation: dict[int, np.ndarray] = {}  # job -> X row over flavors
        self._active: frozenset[int] = frozenset()
        self.reset_s = 0.0
        self.received: dict[int, list[float]] = {}  # job -> seconds on each flavor since the reset
        self._since: dict[int, tuple[float, int]] = {}  # running job -> (counted from, flavor)
        self.solves = 0

    def key(self, job: int) -> Key:
        return (job,)

    # -- time received ------------------------------------------------------------

    def on_start(self, job: int, pool: int, now: float) -> None:
        self._since[job] = (now, self.context.flavor_of_pool[pool])

    def on_stop(self, job: int, pool: int, now: float, finished: bool) -> None:
        since, flavor = self._since.pop(job)
        if job in self.received:
            self.received[job][flavor] += now - since
        if finished:
            self.received.pop(job, None)

    def _received_now(self, job: int, now: float) -> list[float]:
        got = list(self.received.get(job, [0.0] * self.context.n_flavors))
        running = self._since.get(job)
        if running is not None:
            got[running[1]] += now - running[0]
        return got

    # -- the allocation -------------------------------------------------------------

    def throughputs(self, job: int, pools_of_flavor: list[int]) -> list[float]:
        """The job's throughput on each flavor relative to the reference (1 where unknown)."""
        progress = self.context.progress
        return [progress.speed_on(job, pool) if pool >= 0 else 1.0 for pool in pools_of_flavor]

    def _limits(self, jobs: list[int], quotas: QuotaBook) -> list[GroupLimit]:
        """The LP's per-queue and per-cohort-pool caps on GPUs of each flavor."""
        if quotas.unlimited:
            return []
        queue = np.array([self.context.queue[job] for job in jobs])
        limits: list[GroupLimit] = []
        for q in range(quotas.n_queues):
            members = queue == q
            if members.any():
                limits += [(members, f, cap) for f, cap in enumerate(quotas.cap[q]) if math.isfinite(cap)]
        for pool in range(len(quotas.pool_names)):
            queues = [q for q, of in enumerate(quotas.pool_of) if of == pool]
            members = np.isin(queue, queues)
            if members.any():
                for f in range(len(quotas.flavors)):
                    bound = sum(quotas.nominal[q][f] for q in queues)
                    if math.isfinite(bound):
                        limits.append((members, f, bound))
        return limits

    def _solve(self, jobs: list[int], allowed: np.ndarray, pools_of_flavor: list[int], now: float,
               limits: list[GroupLimit]) -> None:
        capacity = np.array(self.context.capacity_by_flavor(), dtype=np.float64)
        scale = np.array([self.context.progress.gpus[job] for job in jobs], dtype=np.float64)
        if self.heterogeneity_aware:
            speed = np.array([self.throughputs(job, pools_of_flavor) for job in jobs], dtype=np.float64)
            share = (speed * capacity * allowed).sum(axis=1) / np.maximum((capacity * allowed).sum(axis=1), 1.0)
            coefficients = scale[:, None] * speed / np.where(share > 0, share, 1.0)[:, None]
        else:
            coefficients = np.repeat(scale[:, None], len(capacity), axis=1)
        kept = allowed.any(axis=1) if limits else np.ones(len(jobs), dtype=bool)
        if kept.all():
            x = max_min_allocation(coefficients * allowed, scale, capacity, allowed, limits)
        else:
            # A job its queue's quota admits on no type would pin the minimum at 0 and make
            # every allocation "fair": it is left out of the LP (and gets no time).
            x = np.zeros(allowed.shape)
            x[kept] = max_min_allocation((coefficients * allowed)[kept], scale[kept], capacity, allowed[kept],
                                         [(members[kept], flavor, bound) for members, flavor, bound in limits])
        if not self.heterogeneity_aware:
            # Types are interchangeable to this policy: which type the LP's vertex happens to
            # pick means nothing, so each job's time is spread over the types it may use in
            # proportion to their GPUs (the equal share of every type; Gavel's interior-point
            # solver returns such a spread too).
            spread = capacity * allowed
            total = spread.sum(axis=1, keepdims=True)
            x = np.round(x.sum(axis=1, keepdims=True) * spread / np.where(total > 0, total, 1.0), 9) + 0.0
        self.allocation = {job: x[k] for k, job in enumerate(jobs)}
        self.solves += 1
        self.reset_s = now
        self.received = {job: [0.0] * len(capacity) for job in jobs}
        self._since = {job: (now, flavor) for job, (_, flavor) in self._since.items()}

    def plan_round(self, jobs: list[int], allowed: np.ndarray, pools_of_flavor: list[int],
                   now: float, quotas: QuotaBook) -> list[tuple[int, int]]:
        """(job, flavor) to run in the round starting `now`, in the order they were chosen.

        Args:
            jobs: the active jobs (waiting and running), in submit order.
            allowed: (jobs x flavors) whether each may use each flavor (its queue's quota
                included).
            pools_of_flavor: a pool of each flavor (-1: none), to read speeds from.
            quotas: the queues' quota book with the running jobs' usage taken out; pairs
                are added to it as they are taken and removed again before returning.
        """
        if frozenset(jobs) != self._active:
            self._active = frozenset(jobs)
            if jobs:
                self._solve(jobs, allowed, pools_of_flavor, now, self._limits(jobs, quotas))
        elapsed = now - self.reset_s
        pairs = []
        for row, job in enumerate(jobs):
            x = self.allocation[job]
            got = self._received_now(job, now)
            for flavor in range(len(x)):
                if not allowed[row, flavor]:
                    continue
                share = x[flavor]
                if share <= 0.0:
                    pairs.append(((2, 0.0, 0.0, 0.0), job, flavor))
                    continue
                fraction = got[flavor] / elapsed if elapsed > 0 else 0.0
                deficit = share * elapsed - got[flavor]
                if fraction <= 0.0:
                    pairs.append(((0, -share, -deficit, 0.0), job, flavor))
                else:
                    pairs.append(((1, -share / fraction, -deficit, -share), job, flavor))
        pairs.sort()
        free = [float(value) for value in self.context.capacity_by_flavor()]
        gpus = self.context.progress.gpus
        queue = self.context.queue
        chosen: list[tuple[int, int]] = []
        taken: set[int] = set()
        try:
            for _, job, flavor in pairs:
                if job in taken or gpus[job] > free[flavor] or not quotas.fits(queue[job], flavor, gpus[job]):
                    continue
                taken.add(job)
                free[flavor] -= gpus[job]
                quotas.add(queue[job], flavor, gpus[job])
                chosen.append((job, flavor))
        finally:
            for job, flavor in reversed(chosen):
                quotas.remove(queue[job], flavor, gpus[job])
        return chosen

    def next_round(self, now: float) -> float:
        """Start of the first round after `now` (rounds start at multiples of `round_s`)."""
        return (math.floor(now / self.round_s) + 1) * self.round_s


@POLICIES.register("gavel_las_agnostic")
class GavelLasAgnosticPolicy(GavelLasPolicy):
    """Gavel's heterogeneity-agnostic max-min fairness (every throughput 1), in rounds."""

    heterogeneity_aware = False
