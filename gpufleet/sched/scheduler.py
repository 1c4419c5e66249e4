"""Who runs where: admission in policy order against quota and topology, backfill, preemption.

A pass considers pending jobs in the policy's order (across queues: by the policy's
queue rank, then its job key). For each job it checks the queue's quota per flavor
(`sched.quota`), then places the gang on the topology (`sched.placement`). A job that
cannot start is *blocked*:

- its queue, if StrictFIFO, admits nothing more this pass;
- the first job blocked for lack of room (not quota) is the head. Backfill `easy` gives
  it a reservation (`sched.reservation`) that later jobs may not delay; `none` stops the
  pass there; `greedy` lets anything that fits go on;
- a job whose queue has had no failure yet this pass (`preemption_scope: first_blocked`),
  or any waiting job (`any`), may preempt running jobs, when its queue's Kueue
  preemption settings or the policy itself (las, srtf, srsf, fgf_preemptive) allow it
  (`sched.preemption`). Preemption moves the reservation.

Equal policy keys are broken by submit order, or with `ties: stable` by the order of the
previous pass (`sched.ties`).

Passes stay cheap on long queues: jobs are bucketed by (queue, shape), where a shape is
(GPUs, group, block rule, flavors). If one job of a bucket cannot be placed none can, so
a pass skips whole buckets; an arrival that is not the new head is tried on its own
against the standing reservation instead of rescanning the queue.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from gpufleet.fleet.capacity import ArrayCapacity, CapacityView
from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import Allocation, FleetState, Placement
from gpufleet.sched import preemption, reasons, reservation, rounds, ties
from gpufleet.sched.core import PassResult, RackOption, Step
from gpufleet.sched.pending import PendingBuckets
from gpufleet.sched.placement import PlacementStrategy
from gpufleet.sched.policies import Key, Policy
from gpufleet.sched.progress import JobProgress
from gpufleet.sched.quota import QuotaBook
from gpufleet.sched.reservation import UNCONSTRAINED, Reservation
from gpufleet.sched.running import RunningIndex
from gpufleet.spec.scheduler import Backfill, PreemptionScope, QueueingStrategy, QueueSpec, Ties
from gpufleet.workload.jobs import JobTable

_STARTED, _FAIL_QUOTA, _FAIL_PLACE, _FAIL_LONG = 0, 1, 2, 3
_LAST_KEY = (math.inf,)  # sorts after every job key


class Scheduler:
    """Pending queues, quota, running allocations and the scheduling pass (`sched.core.SchedulerCore`)."""

    def __init__(self, jobs: JobTable, layout: FleetLayout, state: FleetState, placement: PlacementStrategy,
                 policy: Policy, quotas: QuotaBook, progress: JobProgress, queue_of: list[int],
                 priority: list[int], queue_specs: list[QueueSpec], backfill: Backfill = Backfill.easy,
                 max_job_test: int = 500, max_restarts: int | None = None, track_racks: bool = False,
                 rank_victims: bool = False, preemption_scope: PreemptionScope = PreemptionScope.first_blocked,
                 tie_order: Ties = Ties.submit_order) -> None:
        self.layout = layout
        self.state = state
        self.placement = placement
        self.policy = policy
        self.quotas = quotas
        self.progress = progress
        self.backfill = backfill
        self.max_job_test = max_job_test
        self.max_restarts = max_restarts
        self.track_racks = track_racks
        self.rank_victims = rank_victims
        self.any_scope = preemption_scope is PreemptionScope.any
        # Stable ties differ from submit order only where keys move while jobs run (`sched.ties`).
        self.ties = ties.TieOrder(len(jobs)) if tie_order is Ties.stable and policy.keys_move else None
        # Per rack, (changes, GPUs missing, cheapest option) last found by `preemption.gang_victims`.
        self.rack_options: dict[int, tuple[int, int, RackOption | None]] = {}
        self.failed: set[int] = set()  # jobs stopped for good after too many interruptions
        self.queue_of = queue_of
        self.priority = priority
        self.queue_specs = queue_specs
        self._strict = [spec.queueing_strategy is QueueingStrategy.StrictFIFO for spec in queue_specs]
        self.job_gpus: list[int] = jobs.gpus.tolist()
        self.job_shape: list[int] = jobs.shape.tolist()
        self.shape_group = [shape[1] for shape in jobs.shapes]
        self.shape_within = [shape[2] for shape in jobs.shapes]
        self.shape_pools = [layout.pools_for(shape[3]) for shape in jobs.shapes]
        # Shapes with several providers in order: their pools, provider by provider (else None).
        self._shape_tiers = [tiers if len(tiers := layout.provider_tiers(shape[3])) > 1 else None
                             for shape in jobs.shapes]
        upper = [flavor.upper() for flavor in quotas.flavors]
        self.flavor_of_pool = [upper.index(pool.gpu.name.upper()) for pool in layout.pools]
        self._can_preempt = [policy.preemptive or spec.preemption.within_cluster_queue != "Never"
                             or spec.preemption.reclaim_within_cohort != "Never"
                             or spec.preemption.borrow_within_cohort != "Never" for spec in queue_specs]

        self.pending = PendingBuckets(quotas.n_queues, queue_of, self.job_shape)
        # The pending buckets' containers, read all through the pass.
        self._by_queue = self.pending.by_queue
        self._buckets = self.pending.buckets
        self._bucket_runs = self.pending.bucket_runs
        self._key = self.pending.key
        self._run_key = self.pending.run_key
        self.n_pending = 0
        self.pending_gpus = 0
        self.running = RunningIndex(layout, self.job_gpus, self.job_shape, priority, track_racks, rank_victims)
        # The index's containers, read in the pass and by the view (`sched.core.SchedulerView`).
        self.allocations = self.running.allocations
        self.started_at = self.running.started_at
        self.cheapest_first = self.running.cheapest_first
        self.rack_changes = self.running.rack_changes
        self.reason: list[str] = [""] * len(jobs)
        self.history: dict[int, list[tuple[float, str]]] = {}
        self.reserved_s = np.full(len(jobs), np.nan)
        self._reservation: Reservation | None = None
        self._full_pass = True
        self._new: list[int] = []
        self._head: Key | None = None  # first job in order when the last pass ended
        self._blocked_head: Key | None = None  # first job blocked for room in the last pass
        self._round_due = False  # round-based policies: a round starts at this pass

    # -- events from the simulation ---------------------------------------------------

    def submit(self, job: int) -> None:
        """Hand a job to the scheduler (the caller has checked that it can ever fit).

        It is queued at the next pass, unless that pass starts it at once.
        """
        self.pending_gpus += self.job_gpus[job]
        self.n_pending += 1
        self._new.append(job)
        if self.ties is not None:
            self.ties.arrive(job)

    def has_waiting(self) -> bool:
        """Whether any job waits (queued, or handed over since the last pass)."""
        return self.n_pending > 0

    def capacity_added(self) -> None:
        self._full_pass = True

    def capacity_lost(self) -> None:
        self._full_pass = True
        self._reservation = None

    def capacity_returned(self) -> None:
        """GPUs held outside the queues came back. A plan that foresaw no start (it counted
        them as held for ever) is made again; a dated one still holds: more capacity cannot
        delay the head past its reserved start."""
        self._full_pass = True
        if self._reservation is not None and self._reservation.extra is None:
            self._reservation = None

    def capacity_taken(self, racks: np.ndarray) -> None:
        """GPUs of `racks` went to someone outside the queues (a serving replica): nothing
        more can start; the backfill plan stands unless it counted on those racks."""
        self._replan_if_reserved(racks)

    def _replan_if_reserved(self, racks: np.ndarray) -> None:
        """Drop the backfill plan if the head's reserved placement uses any of `racks`
        (elsewhere, less or later capacity cannot make that placement infeasible)."""
        planned = self._reservation
        if planned is None or planned.extra is None:
            return
        if len(racks) == 1:  # most gangs: one scalar read
            reserved = planned.extra[racks.item(0)] < UNCONSTRAINED // 2
        else:
            reserved = bool(np.any(planned.extra[racks] < UNCONSTRAINED // 2))
        if reserved:
            self._reservation = None

    def rerank(self, job: int) -> None:
        """The policy's rank of `job` changed by itself (a timer): re-queue it if waiting,
        and look at the queue again either way (a running job may now be preempted)."""
        if job in self._key:
            self._dequeue(job)
            if self.ties is not None:  # its value moved: a stable re-sort puts it after its new equals
                self.ties.arrive(job)
                self.ties.place([job], lambda _: self._by_queue[self.queue_of[job]],
                                lambda other, running: self.policy.sort_value(other, 0.0, running), set())
            self._enqueue(job)
        self._full_pass = True

    def end(self, job: int, now: float) -> Allocation:
        """A running job finished at `now`: free its GPUs and quota."""
        expected = self.running.expected_end[job]
        allocation = self._stop(job, now, finished=True)
        if now < expected:
            self._reservation = None  # the plan assumed these GPUs busy for longer
        return allocation

    def _stop(self, job: int, now: float, finished: bool, failure: bool = False) -> Allocation:
        allocation = self.running.remove(job)
        self.state.release(allocation, now)
        self.quotas.remove(self.queue_of[job], self.flavor_of_pool[allocation.pool], self.job_gpus[job])
        self.progress.stop(job, now, finished, failure)
        self.policy.on_stop(job, allocation.pool, now, finished)
        self._full_pass = True
        return allocation

    def preempt(self, job: int, now: float, reason: str, replan: bool = True) -> None:
        """Stop running `job` for someone else; it goes back to the queue (the caller
        closes its run segment). `replan=False` keeps the backfill plan: the caller
        says where the GPUs go (`capacity_taken`)."""
        self._stop(job, now, finished=False)
        self._set_reason(job, reason, now)
        self.pending_gpus += self.job_gpus[job]
        self.n_pending += 1
        self._enqueue(job)
        if replan:
            self._reservation = None  # preemption moves what the plan assumed

    # -- failures ---------------------------------------------------------------------

    def jobs_on_node(self, node: int) -> list[tuple[int, int]]:
        """(job, GPUs it holds on the node) for the running jobs on `node`, in job order."""
        found = []
        for job in sorted(self.rack_jobs(self.state.rack_of_node(node))):
            allocation = self.allocations[job]
            held = allocation.node_gpus[allocation.nodes == node]
            if len(held):
                found.append((job, int(held.sum())))
        return found

    def jobs_on_rack(self, rack: int) -> list[int]:
        return sorted(self.rack_jobs(rack))

    def rack_jobs(self, rack: int) -> set[int]:
        """The running jobs on `rack`, unordered (do not change the set)."""
        return self.running.rack_jobs(rack)

    def _exhausted(self, job: int) -> bool:
        return self.max_restarts is not None and self.progress.interruptions[job] > self.max_restarts

    def interrupt(self, job: int, now: float, cause: str) -> bool:
        """A failure stopped `job`: free its GPUs; queue it again, unless it has used up its
        restarts (then it fails for good). Returns whether it was queued again."""
        self._stop(job, now, finished=False, failure=True)
        self._reservation = None
        if self._exhausted(job):
            self.failed.add(job)
            self._set_reason(job, f"failed: more than {self.max_restarts} interruptions", now)
            return False
        self.pending_gpus += self.job_gpus[job]
        self.n_pending += 1
        self._enqueue(job)
        self._set_reason(job, f"interrupted: {cause}", now)
        return True

    def restart_in_place(self, job: int, now: float, failed_node: int, spare: int, cause: str) -> float | None:
        """A failed node of `job` was swapped for a spare: the job restarts on the same
        allocation. Returns its new run time, or None if it has used up its restarts."""
        allocation = self.allocations[job]
        allocation.nodes[allocation.nodes == failed_node] = spare
        if self.max_restarts is not None and self.progress.interruptions[job] + 1 > self.max_restarts:
            self.interrupt(job, now, cause)
            return None
        self.progress.stop(job, now, finished=False, failure=True)
        self.policy.on_stop(job, allocation.pool, now, False)
        expected = now + self.progress.expected_run_s(job, self.progress.speed_on(job, allocation.pool))
        run_s = self.progress.start(job, now, allocation.pool)
        planned_end = self.running.restarted(job, now, expected)
        self.policy.on_start(job, allocation.pool, now)
        if self._reservation is not None and planned_end <= self._reservation.start_s:
            self._replan_if_reserved(allocation.racks)  # the plan counted on its GPUs by then
        return run_s

    # -- queue structures -------------------------------------------------------------

    def _enqueue(self, job: int) -> Key:
        key = self.policy.key(job) if self.ties is None else self.ties.key(self.policy.key(job))
        self.pending.add(job, key, self._planned_run_s(job))  # the run time is fixed while it waits
        return key

    def _dequeue(self, job: int) -> float:
        """Take a waiting job out of the queue; returns its expected run time."""
        return self.pending.remove(job)

    def _expected_run(self, job: int) -> float:
        """What a start now would take (known for a waiting job since it was queued)."""
        run_key = self._run_key.get(job)
        return run_key[0] if run_key is not None else self._planned_run_s(job)

    def _planned_run_s(self, job: int) -> float:
        """The run time backfill plans a start with: on the slowest pool the job may use,
        so a job called short is short wherever it lands."""
        progress = self.progress
        if not progress.varied_speed:
            return progress.expected_run_s(job)
        speed = min(progress.speed_on(job, pool) for pool in self.shape_pools[self.job_shape[job]])
        return progress.expected_run_s(job, speed)

    def _first(self, now: float) -> Key | None:
        """The first pending job in the policy's order."""
        best: tuple[tuple[float, ...], Key] | None = None
        for queue, keys in enumerate(self._by_queue):
            if keys:
                entry = (self.policy.queue_rank(queue, now), keys[0])
                if best is None or entry < best:
                    best = entry
        return None if best is None else best[1]

    # -- the pass ---------------------------------------------------------------------

    def start_round(self) -> None:
        """A round of a round-based policy starts: the next pass decides it."""
        self._round_due = True

    def waiting_jobs(self) -> list[int]:
        """The waiting jobs, in no particular order."""
        return list(self._key)

    def queue_head(self, queue: int) -> int | None:
        """The first waiting job of `queue` in the policy's order (None: none waits)."""
        keys = self._by_queue[queue]
        return keys[0][-1] if keys else None

    def may_preempt(self, queue: int) -> bool:
        """Whether `queue`'s jobs may preempt (its policy, or its preemption settings, allow it)."""
        return self._can_preempt[queue]

    def tries_providers_in_order(self) -> bool:
        """Whether some job shape lists several providers in order (Kueue's TryNextFlavor)."""
        return any(tiers is not None for tiers in self._shape_tiers)

    def strict_fifo(self, queue: int) -> bool:
        """Whether `queue` is StrictFIFO (a blocked head blocks the rest of its queue)."""
        return self._strict[queue]

    def pools_of(self, job: int) -> tuple[int, ...]:
        """The pools `job` may run on (its flavors)."""
        return self.shape_pools[self.job_shape[job]]

    def note_reason(self, job: int, reason: str, now: float) -> None:
        """Record why `job` is not running (kept in its reason history when it changes)."""
        self._set_reason(job, reason, now)

    def start_on_flavor(self, job: int, flavor: int, now: float, result: PassResult) -> bool:
        """Start waiting `job` on a pool of `flavor` if quota and topology allow; else say why."""
        queue, gpus = self.queue_of[job], self.job_gpus[job]
        pools = tuple(p for p in self.shape_pools[self.job_shape[job]]
                      if self.flavor_of_pool[p] == flavor and self.quotas.fits(queue, flavor, gpus))
        if not pools:
            self._set_reason(job, self.quotas.why_not(queue, flavor, gpus), now)
            return False
        if not self._counts_fit(job, pools, now):
            return False
        placement = self.place(job, self.state, pools)
        if placement is None:
            self._set_reason(job, reasons.NO_TOPOLOGY_FIT, now)
            return False
        self._start(job, placement, now, result)
        return True

    def schedule(self, now: float) -> PassResult:
        """Start (and preempt) what the rules allow at `now`."""
        result = PassResult()
        if self.policy.round_s is not None:
            for job in self._new:
                self._enqueue(job)
            self._new = []
            if self._round_due:
                self._round_due = False
                rounds.play_round(self, now, result)
            return result
        if self.ties is not None:
            self._restamp(now)
        new, self._new = self._new, []
        if new and not self._key and not self.policy.dynamic_queue_order:
            # Nothing queued: arrivals start in policy order while they fit, never queued.
            if len(new) > 1:
                new.sort(key=self.policy.key)
            while new and self._try(new[0], now, None, set(), set(), result) == _STARTED:
                new.pop(0)
            if new:
                self._full_pass = True
        fresh = sorted(self._enqueue(job) for job in new)
        first = self._first(now)
        if self._full_pass or self.policy.dynamic_queue_order or first != self._head or self.ties is not None:
            self._full_pass = False
            self._pass(now, result)
        elif fresh:
            self._pass_fresh(fresh, now, result)
        self._head = self._first(now)
        return result

    def _pass(self, now: float, result: PassResult) -> None:
        """Consider every bucket in order, skipping what is known to fail (budgeted)."""
        policy = self.policy
        dynamic = policy.dynamic_queue_order
        ranks = [policy.queue_rank(queue, now) for queue in range(len(self._by_queue))]
        heap = [(ranks[queue], keys[0], queue, shape) for (queue, shape), keys in self._buckets.items() if keys]
        heapq.heapify(heap)
        failed_queues: set[int] = set()
        strict_blocked: set[int] = set()
        long_blocked: set[tuple[int, int]] = set()
        short_only: dict[tuple[int, int], list[Key]] = {}
        head_reservation: Reservation | None = None
        self._blocked_head = None
        budget = self.max_job_test
        while heap:
            rank, key, queue, shape = heapq.heappop(heap)
            if dynamic:
                current = policy.queue_rank(queue, now)
                if current > rank:  # the queue's share grew since this entry was pushed
                    heapq.heappush(heap, (current, key, queue, shape))
                    continue
            job = key[-1]
            if queue in strict_blocked:
                self._set_reason(job, reasons.STRICT_ORDER, now)
                continue
            if failed_queues:
                budget -= 1
                if budget < 0:
                    break
            outcome = self._try(job, now, head_reservation, failed_queues, long_blocked, result)
            bucket = (queue, shape)
            if outcome != _STARTED:
                failed_queues.add(queue)
                if outcome == _FAIL_PLACE and self._blocked_head is None:
                    self._blocked_head = key
                    if self.backfill is Backfill.none:
                        return
                    if self.backfill is Backfill.easy:
                        head_reservation = self._reservation_for(job, now)
                if self._strict[queue]:
                    strict_blocked.add(queue)
                    continue
                if outcome in (_FAIL_QUOTA, _FAIL_PLACE):
                    continue  # no other job of this bucket fits either: drop the bucket
                if outcome == _FAIL_LONG and bucket not in short_only and head_reservation is not None:
                    window = head_reservation.start_s - now
                    short = [k for _, k in self._bucket_runs[bucket].irange(maximum=(window, _LAST_KEY)) if k > key]
                    short_only[bucket] = sorted(short, reverse=True)
            if bucket in short_only:
                following = short_only[bucket].pop() if short_only[bucket] else None
            else:
                keys = self._buckets[bucket]
                index = keys.bisect_right(key)
                following = keys[index] if index < len(keys) else None
            if following is not None:
                heapq.heappush(heap, (policy.queue_rank(queue, now) if dynamic else rank, following, queue, shape))

    def _pass_fresh(self, fresh: list[Key], now: float, result: PassResult) -> None:
        """Nothing has freed since the last pass: try only the arrivals, each in its place."""
        head = self._blocked_head
        head_reservation = None
        if head is not None and head[-1] in self._key and self.backfill is Backfill.easy:
            head_reservation = self._reservation_for(head[-1], now)
        for key in fresh:
            job = key[-1]
            if head is not None and self.backfill is Backfill.none and key > head:
                self._set_reason(job, reasons.STRICT_ORDER, now)
                continue
            queue = self.queue_of[job]
            earlier = self._by_queue[queue][0] != key
            if earlier and self._strict[queue]:
                self._set_reason(job, reasons.STRICT_ORDER, now)
                continue
            failed = {queue} if earlier else set()
            self._try(job, now, head_reservation, failed, set(), result)

    def _try(self, job: int, now: float, head_reservation: Reservation | None, failed_queues: set[int],
             long_blocked: set[tuple[int, int]], result: PassResult) -> int:
        """Admit `job` now if quota, room and the reservation allow (preempting if it may)."""
        queue, shape, gpus = self.queue_of[job], self.job_shape[job], self.job_gpus[job]
        may_preempt = self._can_preempt[queue] and (self.any_scope or queue not in failed_queues)
        long = (head_reservation is not None and head_reservation.extra is not None
                and self._expected_run(job) > head_reservation.start_s - now)
        if long and (queue, shape) in long_blocked:
            self._set_reason(job, reasons.BEHIND_RESERVATION, now)
            return _FAIL_LONG
        pools = self.shape_pools[shape] if self.quotas.unlimited else \
            tuple(p for p in self.shape_pools[shape] if self.quotas.fits(queue, self.flavor_of_pool[p], gpus))
        if not pools:
            if may_preempt and self._admit_by_preempting(job, now, result):
                return _STARTED
            flavor = self.flavor_of_pool[self.shape_pools[shape][0]]
            self._set_reason(job, self.quotas.why_not(queue, flavor, gpus), now)
            return _FAIL_QUOTA
        if not self._counts_fit(job, pools, now):
            placement = None
        elif long and not self.shape_within[shape] and not self._fits_beside(job, pools, head_reservation):
            # Without the block constraint, the counts passing means it fits now, so the
            # outcome is known without searching: it fits, but only on what the head needs.
            long_blocked.add((queue, shape))
            self._set_reason(job, reasons.BEHIND_RESERVATION, now)
            return _FAIL_LONG
        else:
            placement = self.place(job, self.state, pools)
            if placement is None:
                self._set_reason(job, reasons.NO_TOPOLOGY_FIT, now)
        if placement is None:
            if may_preempt and self._admit_by_preempting(job, now, result):
                return _STARTED
            return _FAIL_PLACE
        if long:
            assert head_reservation is not None and head_reservation.extra is not None
            extra = head_reservation.extra
            if np.any(placement.gpus > extra[placement.racks]):
                # It would still run when the reservation begins: it may only take GPUs the
                # head does not need then.
                capped = ArrayCapacity(np.minimum(self.state.avail, extra), self.layout)
                placement = self.place(job, capped, pools)
                if placement is None:
                    long_blocked.add((queue, shape))
                    self._set_reason(job, reasons.BEHIND_RESERVATION, now)
                    return _FAIL_LONG
            extra[placement.racks] -= placement.gpus
        self._start(job, placement, now, result)
        return _STARTED

    def _admit_by_preempting(self, job: int, now: float, result: PassResult) -> bool:
        choice = preemption.choose_victims(self, job, now)
        if choice is None:
            return False
        victims, _ = choice
        for victim in victims:
            self.preempt(victim, now, reasons.PREEMPTED)
            result.events.append((Step.PREEMPT, victim, None, 0.0))
        pools = tuple(p for p in self.shape_pools[self.job_shape[job]]
                      if self.quotas.fits(self.queue_of[job], self.flavor_of_pool[p], self.job_gpus[job]))
        placement = self.place(job, self.state, pools)
        assert placement is not None, "victims were chosen so that the job fits"
        self._start(job, placement, now, result)
        return True

    def _start(self, job: int, placement: Placement, now: float, result: PassResult) -> None:
        run = self._dequeue(job) if job in self._key else self.progress.expected_run_s(job)
        if self.progress.varied_speed:  # planned on the slowest pool; it runs on this one
            run = self.progress.expected_run_s(job, self.progress.speed_on(job, placement.pool))
        allocation = self.state.allocate(placement)
        self.quotas.add(self.queue_of[job], self.flavor_of_pool[allocation.pool], self.job_gpus[job])
        self.pending_gpus -= self.job_gpus[job]
        self.n_pending -= 1
        run_s = self.progress.start(job, now, allocation.pool)
        self.running.add(job, allocation, now, now + run)
        self.policy.on_start(job, allocation.pool, now)
        self.reason[job] = ""
        if self._reservation is not None and self._reservation.job == job:
            self._reservation = None
        result.events.append((Step.START, job, allocation, run_s))

    def _restamp(self, now: float) -> None:
        """Stable ties: put the running jobs and the arrivals where a stable re-sort of the
        whole list puts them (`sched.ties`); waiting jobs keep their places."""
        assert self.ties is not None
        policy = self.policy
        running = set(self.allocations)
        self.ties.place(list(self.allocations) + self._new, lambda job: self._by_queue[self.queue_of[job]],
                        lambda job, is_running: policy.sort_value(job, now, is_running), running)

    def victim_order(self, victim: int) -> Key:
        """Tie-break among preemption victims of equal priority and rank (smaller goes first):
        the most recently started (then the latest submitted), or with stable ties the
        latest in the previous pass's order."""
        if self.ties is not None:
            return (-self.ties.label[victim],)
        return (-self.started_at[victim], -victim)

    def _set_reason(self, job: int, reason: str, now: float) -> None:
        if reason != self.reason[job]:
            self.reason[job] = reason
            self.history.setdefault(job, []).append((now, reason))

    # -- placement and reservations -----------------------------------------------------

    def _counts_fit(self, job: int, pools: tuple[int, ...], now: float) -> bool:
        """Whether the live fleet may hold the job, recording why not.

        Cheap counts reject most misfits before the placement search: free GPUs, then
        free whole NVLink groups (GPUs left in racks as remnants smaller than a group
        cannot host one). Unless the job must stay in one block, passing them means
        best-fit placement succeeds.
        """
        gpus, group = self.job_gpus[job], self.shape_group[self.job_shape[job]]
        state = self.state
        enough_gpus = False
        for p in pools:
            if state.avail_gpus[p] >= gpus:
                if state.groups_free(p, group) >= gpus // group:
                    return True
                enough_gpus = True
        self._set_reason(job, reasons.NO_TOPOLOGY_FIT if enough_gpus else reasons.INSUFFICIENT_GPUS, now)
        return False

    def _fits_beside(self, job: int, pools: tuple[int, ...], head_reservation: Reservation | None) -> bool:
        """Whether enough whole groups are free that the reserved head will not need
        (a count: necessary for any placement that leaves the head its GPUs).

        Off the head's racks every free group counts; on them, only what `extra` leaves
        (known per group until the pool's free capacity next changes).
        """
        assert head_reservation is not None
        assert head_reservation.extra is not None and head_reservation.racks is not None
        group = self.shape_group[self.job_shape[job]]
        needed = self.job_gpus[job] // group
        for p in pools:
            free = self.state.groups_free(p, group)
            if p == head_reservation.pool and free >= needed:
                free -= self._groups_reserved(head_reservation, group)
            if free >= needed:
                return True
        return False

    def _groups_reserved(self, head_reservation: Reservation, group: int) -> int:
        """Free whole groups on the head's racks that it needs (its pool's groups less those beside it)."""
        assert head_reservation.extra is not None and head_reservation.racks is not None
        state, racks = self.state, head_reservation.racks
        if state.watched is not racks:
            state.watch(racks)
        stamp = state.watched_changes
        known = head_reservation.reserved_groups.get(group)
        if known is None or known[0] != stamp:
            # `extra` changes only where a job is placed beside the head: a watched change too.
            avail = state.avail[racks]
            beside = np.minimum(avail, head_reservation.extra[racks])
            known = (stamp, int((avail // group).sum() - (beside // group).sum()))
            head_reservation.reserved_groups[group] = known
        return known[1]

    def place(self, job: int, capacity: CapacityView, pools: tuple[int, ...]) -> Placement | None:
        """Place on the live fleet or on a capped or projected copy of its free GPUs."""
        shape = self.job_shape[job]
        tiers = self._shape_tiers[shape]
        if tiers is None:
            return self.placement.place(capacity, pools, self.job_gpus[job], self.shape_group[shape],
                                        self.shape_within[shape])
        # Kueue's TryNextFlavor: a later provider's pools only when no earlier one's take the gang.
        allowed = set(pools)
        for tier in tiers:
            mine = tuple(pool for pool in tier if pool in allowed)
            placed = self.placement.place(capacity, mine, self.job_gpus[job], self.shape_group[shape],
                                          self.shape_within[shape]) if mine else None
            if placed is not None:
                return placed
        return None

    def _reservation_for(self, head: int, now: float) -> Reservation:
        if self._reservation is None or self._reservation.job != head:
            queue, shape, gpus = self.queue_of[head], self.job_shape[head], self.job_gpus[head]
            pools = tuple(p for p in self.shape_pools[shape] if self.quotas.fits(queue, self.flavor_of_pool[p], gpus))
            pools = pools or self.shape_pools[shape]
            self._reservation = reservation.plan(
                head, now, self.state, self.running.ends, self.allocations, pools, gpus, self.shape_group[shape],
                lambda capacity: self.place(head, capacity, pools))
            if math.isnan(self.reserved_s[head]):
                self.reserved_s[head] = self._reservation.start_s
        return self._reservation

    def unusable_gpus(self) -> int:
        """Free GPUs the smallest waiting gang cannot use (fragmentation); 0 if nothing waits.

        If the gang fits somewhere, the unusable GPUs are the remnants of racks smaller
        than one of its NVLink groups; if it fits nowhere, every free GPU of its pools.
        """
        smallest: int | None = None
        for keys in self._buckets.values():
            if keys and (smallest is None or self.job_gpus[keys[0][-1]] < self.job_gpus[smallest]):
                smallest = keys[0][-1]
        if smallest is None:
            return 0
        shape = self.job_shape[smallest]
        pools, group = self.shape_pools[shape], self.shape_group[shape]
        free = sum(self.state.avail_gpus[p] for p in pools)
        if self.place(smallest, self.state, pools) is None:
            return free
        return free - sum(self.state.groups_free(p, group) * group for p in pools)

    def shapes_waiting(self) -> set[int]:
        """The shapes of the jobs waiting in the queues."""
        return {shape for (_, shape), keys in self._buckets.items() if keys}

    def shapes_running(self) -> set[int]:
        """The shapes of the running jobs."""
        return set(self.running.shapes)

    def reserved_extra(self) -> np.ndarray | None:
        """Per rack, what the blocked head's standing reservation leaves others (EASY's extra
        GPUs; None: none stands)."""
        planned, head = self._reservation, self._blocked_head
        if planned is None or planned.extra is None or head is None or planned.job != head[-1]:
            return None
        return planned.extra

    # -- end of run -------------------------------------------------------------------

    def explain_waiting(self) -> None:
        """Give every still-pending job a reason, for the jobs never examined lately."""
        for keys in self._by_queue:
            for key in keys:
                job = key[-1]
                if self.reason[job]:
                    continue
                pools = self.shape_pools[self.job_shape[job]]
                if self.backfill is Backfill.none and self._blocked_head is not None and key > self._blocked_head:
                    self.reason[job] = reasons.STRICT_ORDER
                elif all(self.state.avail_gpus[p] < self.job_gpus[job] for p in pools):
                    self.reason[job] = reasons.INSUFFICIENT_GPUS
                else:
                    self.reason[job] = reasons.NOT_EXAMINED
