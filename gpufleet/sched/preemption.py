"""Choosing victims: which running jobs a blocked job may preempt, and the fewest that suffice.

A running job r may be preempted for a waiting job j when

- the policy ranks j above r on its own account (las, srtf), within one queue; or
- r is in j's queue and the queue's `within_cluster_queue` allows it (LowerPriority:
  r has lower priority; LowerOrNewerEqualPriority: or equal priority and submitted later);
- r is in another queue of j's cohort, and either j stays within its queue's nominal
  quota of r's flavor while r's queue borrows (`reclaim_within_cohort`: Any, or
  LowerPriority), or j would borrow and r has lower priority (`borrow_within_cohort`).

Candidates are taken lowest priority first, then as the policy ranks them (most attained
service, most time left), then most recently started (or, with stable ties, latest in the
previous pass's order), until j's quota and placement both fit with their GPUs back;
victims not needed in the end are spared (Kueue's order and minimisation).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gpufleet.fleet.capacity import ArrayCapacity
from gpufleet.fleet.state import ACTIVE, Placement
from gpufleet.sched.core import RackOption, SchedulerView

MAX_CANDIDATES = 256
"""Most running jobs examined as victims for one waiting job."""


def allowed(scheduler: SchedulerView, job: int, victim: int, now: float) -> bool:
    """Whether the rules let `job` preempt running `victim`."""
    policy = scheduler.policy
    if scheduler.queue_of[job] == scheduler.queue_of[victim] and policy.preemptive \
            and policy.preempts(job, victim, now):
        return True
    return queue_rules_allow(scheduler, scheduler.queue_of[job], scheduler.priority[job], scheduler.job_gpus[job],
                             victim, newer=victim > job)


def queue_rules_allow(scheduler: SchedulerView, queue: int, priority: float, gpus: int, victim: int,
                      newer: bool = False) -> bool:
    """Whether a workload of `gpus` GPUs at `priority` in `queue` may preempt running
    `victim` under the queues' Kueue preemption settings (`newer`: the victim was
    submitted after it)."""
    quotas = scheduler.quotas
    theirs = scheduler.queue_of[victim]
    their_priority = scheduler.priority[victim]
    if queue == theirs:
        rule = scheduler.queue_specs[queue].preemption.within_cluster_queue
        if rule == "LowerPriority":
            return their_priority < priority
        if rule == "LowerOrNewerEqualPriority":
            return their_priority < priority or (their_priority == priority and newer)
        return False
    if quotas.pool_of[queue] != quotas.pool_of[theirs]:
        return False
    rules = scheduler.queue_specs[queue].preemption
    flavor = scheduler.flavor_of_pool[scheduler.allocations[victim].pool]
    if quotas.within_nominal(queue, flavor, gpus):
        if not quotas.borrowing(theirs, flavor):
            return False
        if rules.reclaim_within_cohort == "Any":
            return True
        return rules.reclaim_within_cohort == "LowerPriority" and their_priority < priority
    return rules.borrow_within_cohort == "LowerPriority" and their_priority < priority


def choose_victims(scheduler: SchedulerView, job: int, now: float) -> tuple[list[int], Placement] | None:
    """The victims whose preemption lets `job` start now, and where it would go; None if none do."""
    candidates = [victim for victim in scheduler.allocations if allowed(scheduler, job, victim, now)]
    if not candidates:
        return None
    policy, priority = scheduler.policy, scheduler.priority
    candidates.sort(key=lambda v: (priority[v], -policy.victim_rank(v, now), *scheduler.victim_order(v)))
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


def _fits_without(scheduler: SchedulerView, job: int, victims: list[int]) -> Placement | None:
    """Where `job` would go if `victims` gave back their GPUs and quota (nothing is changed)."""
    quotas, state = scheduler.quotas, scheduler.state
    shape, gpus, queue = scheduler.job_shape[job], scheduler.job_gpus[job], scheduler.queue_of[job]
    with quotas.without(held_quota(scheduler, victims)):
        pools = tuple(p for p in scheduler.shape_pools[shape] if quotas.fits(queue, scheduler.flavor_of_pool[p], gpus))
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
    return scheduler.place(job, ArrayCapacity(avail, scheduler.layout), pools)


def held_quota(scheduler: SchedulerView, jobs: list[int]) -> list[tuple[int, int, float]]:
    """(queue, flavor, GPUs) each of the running `jobs` holds of its queue's quota."""
    return [(scheduler.queue_of[job], scheduler.flavor_of_pool[scheduler.allocations[job].pool],
             scheduler.job_gpus[job]) for job in jobs]


RACKS_EXAMINED = 256
"""Most racks examined for each NVLink group when freeing room for a gang by preemption."""


def gang_victims(scheduler: SchedulerView, pool: int, gpus: int, group: int,
                 may_preempt: Callable[[int], bool] | None = None) -> list[int] | None:
    """Running jobs whose preemption frees room for `gpus` GPUs in NVLink groups of
    `group` (each group inside one rack) in `pool`; None if the allowed jobs cannot.
    `may_preempt` says which jobs are allowed (None: all).

    Used for gangs from outside the queues (serving replicas). Free room counts first.
    Then, one group at a time, the cheapest rack option: the jobs of one rack whose GPUs
    there complete one more group, chosen lowest priority, then smallest, then most
    recently started, and spared when not needed. Options compare by (highest victim
    priority, GPUs stopped, jobs stopped): stopping a 65,536-GPU run for one replica is
    the last resort. Racks are visited from the racks of the cheapest running jobs on,
    until no unvisited rack can beat the best option in hand.
    """
    state, layout = scheduler.state, scheduler.layout
    lo, hi = layout.pools[pool].rack_lo, min(layout.pools[pool].rack_hi, state.delivered_hi[pool])
    rack_state, rack_down = state.rack_state, state.rack_down

    def usable(rack: int) -> bool:  # in service: a rack draining or down takes no replica
        return bool(rack_state[rack] == ACTIVE and not rack_down[rack])

    groups = state.groups_free(pool, group)  # racks out of service have no free GPUs
    freed: dict[int, int] = {}  # rack -> GPUs the victims chosen so far give back there
    victims: list[int] = []
    options = scheduler.rack_options
    while groups < gpus // group:
        best: RackOption | None = None
        seen: set[int] = set()
        for priority, job_gpus, _, job in scheduler.cheapest_first[pool]:
            if best is not None and (priority, job_gpus) > best[0][:2]:
                break  # every rack still unseen costs at least this job
            if len(seen) >= RACKS_EXAMINED:
                break
            if job in victims:
                continue
            allocation = scheduler.allocations[job]
            if may_preempt is not None and not may_preempt(job):
                continue
            for rack in allocation.racks.tolist():
                if rack in seen or not usable(rack):
                    continue
                seen.add(rack)
                free = int(state.avail[rack]) + freed.get(rack, 0)
                missing = group - free % group
                if may_preempt is None and not victims:  # the rack's answer alone: kept until it changes
                    stamp = int(scheduler.rack_changes[rack])
                    known = options.get(rack)
                    if known is not None and known[0] == stamp and known[1] == missing:
                        option = known[2]
                    else:
                        option = _rack_option(scheduler, rack, missing, victims, None)
                        options[rack] = (stamp, missing, option)
                else:
                    option = _rack_option(scheduler, rack, missing, victims, may_preempt)
                if option is not None and (best is None or option < best):
                    best = option
        if best is None:
            return None
        for job in best[1]:
            victims.append(job)
            allocation = scheduler.allocations[job]
            for rack, held in zip(allocation.racks.tolist(), allocation.gpus.tolist(), strict=True):
                if lo <= rack < hi and usable(rack):
                    before = int(state.avail[rack]) + freed.get(rack, 0)
                    freed[rack] = freed.get(rack, 0) + held
                    groups += (before + held) // group - before // group
    return victims


def _rack_option(scheduler: SchedulerView, rack: int, missing: int, taken: list[int],
                 may_preempt: Callable[[int], bool] | None) -> RackOption | None:
    """The cheapest jobs of `rack` (beyond `taken`) whose GPUs there add up to `missing`,
    and their cost; jobs the others make unnecessary are spared."""
    holders = []
    for job in scheduler.rack_jobs(rack):  # any order: the holders' keys are unique and sorted below
        if job not in taken and (may_preempt is None or may_preempt(job)):
            allocation = scheduler.allocations[job]
            racks = allocation.racks  # ascending
            held = allocation.total if len(racks) == 1 else int(allocation.gpus[np.searchsorted(racks, rack)])
            holders.append((scheduler.priority[job], scheduler.job_gpus[job], -scheduler.started_at[job], job, held))
    holders.sort()
    chosen, freed = [], 0
    for holder in holders:
        if freed >= missing:
            break
        chosen.append(holder)
        freed += holder[4]
    if freed < missing:
        return None
    for holder in reversed(chosen[:-1]):  # the last one was needed; spare earlier ones if possible
        if freed - holder[4] >= missing:
            chosen.remove(holder)
            freed -= holder[4]
    if len(chosen) == 1:
        return (chosen[0][0], chosen[0][1], 1), [chosen[0][3]]
    return (max(h[0] for h in chosen), sum(h[1] for h in chosen), len(chosen)), [h[3] for h in chosen]
