"""The round-based mechanism of Gavel-style policies: what runs in the next round.

At a round start the policy chooses (job, GPU type) pairs among the active jobs (waiting
and running; `Policy.plan_round`). Running jobs not chosen, or chosen for another type,
are preempted; chosen jobs not running are placed as gangs on the chosen type's pools
(best fit or the scenario's placement) and start; a job that does not fit the topology
waits for the next round. The plan sees the queues' quota: a job may be given only a type
its queue could admit its gang on, and the policy takes pairs only while quota admits them
(counted from zero: the running jobs' usage is taken out while it plans). Nothing starts between rounds.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from gpufleet.sched import reasons
from gpufleet.sched.core import PassResult, SchedulerView, Step
from gpufleet.sched.preemption import held_quota
from gpufleet.sched.quota import QuotaBook


class RoundScheduler(SchedulerView, Protocol):
    """What a round asks of the scheduler beyond the view: the waiting jobs, and stops and starts."""

    def waiting_jobs(self) -> list[int]: ...

    def pools_of(self, job: int) -> tuple[int, ...]: ...

    def preempt(self, job: int, now: float, reason: str, replan: bool = True) -> None: ...

    def start_on_flavor(self, job: int, flavor: int, now: float, result: PassResult) -> bool: ...

    def note_reason(self, job: int, reason: str, now: float) -> None: ...


def play_round(scheduler: RoundScheduler, now: float, result: PassResult) -> None:
    """Preempt and start what the policy chooses for the round starting `now`."""
    policy = scheduler.policy
    flavor_of_pool = scheduler.flavor_of_pool
    n_flavors = len(scheduler.quotas.flavors)
    pools_of_flavor = [-1] * n_flavors
    for pool, flavor in enumerate(flavor_of_pool):
        if pools_of_flavor[flavor] < 0:
            pools_of_flavor[flavor] = pool
    active = sorted(set(scheduler.waiting_jobs()) | set(scheduler.allocations))
    quotas = scheduler.quotas
    allowed = np.zeros((len(active), n_flavors), dtype=bool)
    for row, job in enumerate(active):
        for pool in scheduler.pools_of(job):
            flavor = flavor_of_pool[pool]
            allowed[row, flavor] = admissible(quotas, scheduler.queue_of[job], flavor, scheduler.job_gpus[job])
    with quotas.without(held_quota(scheduler, sorted(scheduler.allocations))):
        chosen = policy.plan_round(active, allowed, pools_of_flavor, now, quotas)  # type: ignore[attr-defined]
    target = dict(chosen)
    for job in sorted(scheduler.allocations):
        if target.get(job) != flavor_of_pool[scheduler.allocations[job].pool]:
            scheduler.preempt(job, now, reasons.PREEMPTED)
            result.events.append((Step.PREEMPT, job, None, 0.0))
    for job, flavor in chosen:
        if job in scheduler.allocations:
            continue
        scheduler.start_on_flavor(job, flavor, now, result)
    chosen_jobs = set(target)
    row_of = {job: row for row, job in enumerate(active)}
    for job in scheduler.waiting_jobs():
        if job in chosen_jobs:
            continue
        if allowed[row_of[job]].any():
            scheduler.note_reason(job, reasons.NOT_CHOSEN_THIS_ROUND, now)
        else:  # no type its queue may admit: the quota is why, not the round
            flavor = flavor_of_pool[scheduler.pools_of(job)[0]]
            scheduler.note_reason(job, quotas.why_not(scheduler.queue_of[job], flavor, scheduler.job_gpus[job]), now)


def admissible(quotas: QuotaBook, queue: int, flavor: int, gpus: float) -> bool:
    """Whether `queue` could admit a gang of `gpus` GPUs of `flavor` with nothing else running:
    within nominal + borrowing limit, and its part above the guaranteed quota within the
    cohort pool."""
    if quotas.unlimited:
        return True
    if gpus > quotas.cap[queue][flavor]:
        return False
    return max(gpus - quotas.guaranteed[queue][flavor], 0.0) <= quotas.pool_capacity[quotas.pool_of[queue]][flavor]
