"""Choosing victims: which running jobs a blocked job may preempt, and the fewest that suffice.

A running job r may be preempted for a waiting job j when

- the policy ranks j above r on its own account (las, srtf), within one queue; or
- r is in j's queue and the queue's `within_cluster_queue` allows it (LowerPriority:
  r has lower priority; LowerOrNewerEqualPriority: or equal priority and submitted later);
- r is in another queue of j's cohort, and either j stays within its queue's nominal
  quota of r's flavor while r's queue borrows (`reclaim_within_cohort`: Any, or
  LowerPriority), or j would borrow and r has lower priority (`borrow_within_cohort`).

Candidates are taken lowest priority first, then as the policy ranks them (most attained
service, most time left), then most recently started, until j's quota and placement both
fit with their GPUs back; victims not needed in the end are spared (Kueue's order and
minimisation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gpufleet.fleet.capacity import ArrayCapacity
from gpufleet.fleet.state import ACTIVE, Placement

if TYPE_CHECKING:
    from gpufleet.sched.scheduler import Scheduler

MAX_CANDIDATES = 256
"""Most running jobs examined as victims for one waiting job."""


def allowed(scheduler: Scheduler, job: int, victim: int, now: float) -> bool:
    """Whether the rules let `job` preempt running `victim`."""
    quotas, policy = scheduler.quotas, scheduler.policy
    mine, theirs = scheduler.queue_of[job], scheduler.queue_of[victim]
    priority = scheduler.priority
    if mine == theirs:
        if policy.preemptive and policy.preempts(job, victim, now):
            return True
        rule = scheduler.queue_specs[mine].preemption.within_cluster_queue
        if rule == "LowerPriority":
            return priority[victim] < priority[job]
        if rule == "LowerOrNewerEqualPriority":
            return priority[victim] < priority[job] or (priority[victim] == priority[job] and victim > job)
        return False
    if quotas.pool_of[mine] != quotas.pool_of[theirs]:
        return False
    rules = scheduler.queue_specs[mine].preemption
    flavor = scheduler.flavor_of_pool[scheduler.allocations[victim].pool]
    if quotas.within_nominal(mine, flavor, scheduler._gpus[job]):
        if not quotas.borrowing(theirs, flavor):
            return False
        if rules.reclaim_within_cohort == "Any":
            return True
        return rules.reclaim_within_cohort == "LowerPriority" and priority[victim] < priority[job]
    return rules.borrow_within_cohort == "LowerPriority" and priority[victim] < priority[job]


def choose_victims(scheduler: Scheduler, job: int, now: float) -> tuple[list[int], Placement] | None:
    """The victims whose preemption lets `job` start now, and where it would go; None if none do."""
    candidates = [victim for victim in scheduler.allocations if allowed(scheduler, job, victim, now)]
    if not candidates:
        return None
    policy, priority, started = scheduler.policy, scheduler.priority, scheduler.started_at
    candidates.sort(key=lambda v: (priority[v], -policy.victim_rank(v, now), -started[v], -v))
    candidates = candidates[:MAX_CANDIDATES]
    chosen: list[int] = []
    for victim in candidates:
        chosen.append(victim)
        if _fits_without(scheduler, job, chosen) is not None:
            break
    else:
        return None
    for victim in list(reversed(chosen[:-1])):  # spare victims the job can do without
        trial = [v for v in chosen if v != victim]
        if _fits_without(scheduler, job, trial) is not None:
            chosen = trial
    placement = _fits_without(scheduler, job, chosen)
    assert placement is not None
    return chosen, placement


def _fits_without(scheduler: Scheduler, job: int, victims: list[int]) -> Placement | None:
    """Where `job` would go if `victims` gave back their GPUs and quota (nothing is changed)."""
    quotas, state = scheduler.quotas, scheduler.state
    shape, gpus, queue = scheduler._shape[job], scheduler._gpus[job], scheduler.queue_of[job]
    returned: list[tuple[int, int, int]] = []
    for victim in victims:
        allocation = scheduler.allocations[victim]
        returned.append((scheduler.queue_of[victim], scheduler.flavor_of_pool[allocation.pool],
                         scheduler._gpus[victim]))
    for owner, flavor, held in returned:
        quotas.remove(owner, flavor, held)
    try:
        pools = tuple(p for p in scheduler._shape_pools[shape] if quotas.fits(queue, scheduler.flavor_of_pool[p], gpus))
    finally:
        for owner, flavor, held in returned:
            quotas.add(owner, flavor, held)
    if not pools:
        return None
    freed = sum(int(scheduler.allocations[v].total) for v in victims if scheduler.allocations[v].pool in pools)
    if max(state.avail_gpus[p] for p in pools) + freed < gpus:
        return None
    avail = state.avail.copy()
    for victim in victims:
        allocation = scheduler.allocations[victim]
        live = state.rack_state[allocation.racks] == ACTIVE
        np.add.at(avail, allocation.racks[live], allocation.gpus[live])
    return scheduler._place(job, ArrayCapacity(avail, scheduler.layout), pools)
