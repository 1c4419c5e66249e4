"""The scheduler's boundary: the calls a simulation makes to a scheduler, and what the
parts around the pass (victim choice, rounds, serving replicas, admission answers) read.

`SchedulerCore` is all the simulation, the failure and serving processes and the results
know of a scheduler; `sched.scheduler.Scheduler` implements it, and so would a native
core. Every job, queue, pool, rack and node is an int index into the built scenario's
tables (`JobTable`, `FleetLayout`, `QuotaBook`); times are seconds from the scenario start.

A pass returns a `PassResult`: the starts and preemptions it made, in order. The
simulation turns each start into a job-end event `run_s` later and each preemption into a
closed run segment; nothing else crosses the boundary during a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np
from sortedcontainers import SortedList

from gpufleet.fleet.capacity import CapacityView
from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import Allocation, FleetState, Placement
from gpufleet.sched.placement import PlacementStrategy
from gpufleet.sched.policies import Key, Policy
from gpufleet.sched.progress import JobProgress
from gpufleet.sched.quota import QuotaBook
from gpufleet.spec.scheduler import QueueSpec

RackOption = tuple[tuple[float, int, int], list[int]]
"""Stopping some jobs of one rack: (highest victim priority, GPUs stopped, jobs stopped), jobs."""


class Step(StrEnum):
    """What a pass did to a job."""

    START = "start"
    PREEMPT = "preempt"


@dataclass
class PassResult:
    """What one pass did, in order: (START, job, allocation, run seconds) and
    (PREEMPT, job, None, 0.0). A job may be preempted and restarted in one pass."""

    events: list[tuple[Step, int, Allocation | None, float]] = field(default_factory=list)

    @property
    def started(self) -> list[int]:
        return [job for kind, job, _, _ in self.events if kind is Step.START]

    @property
    def preempted(self) -> list[int]:
        return [job for kind, job, _, _ in self.events if kind is Step.PREEMPT]


class SchedulerView(Protocol):
    """What victim choice (`sched.preemption`), serving replicas and admission answers read of
    a scheduler: per-job tables, the running jobs, and the placement it would make."""

    layout: FleetLayout
    state: FleetState
    placement: PlacementStrategy
    policy: Policy
    quotas: QuotaBook
    progress: JobProgress
    queue_specs: list[QueueSpec]
    queue_of: list[int]
    """Per job, its ClusterQueue."""
    priority: list[int]
    """Per job, its priority (higher first; preemption spares the higher)."""
    job_gpus: list[int]
    job_shape: list[int]
    """Per job, its shape: an index into `shape_group`, `shape_within` and `shape_pools`."""
    shape_group: list[int]
    shape_within: list[bool]
    shape_pools: list[tuple[int, ...]]
    flavor_of_pool: list[int]
    """Per pool, its flavor's index in `quotas.flavors`."""
    allocations: dict[int, Allocation]
    """The running jobs and where they run."""
    started_at: dict[int, float]
    cheapest_first: list[SortedList]
    """Per pool, (priority, GPUs, -start, job) of its running jobs (when replicas may preempt)."""
    rack_changes: np.ndarray
    rack_options: dict[int, tuple[int, int, RackOption | None]]
    reason: list[str]
    """Per job, why it is not running ("" while it runs)."""

    def place(self, job: int, capacity: CapacityView, pools: tuple[int, ...]) -> Placement | None:
        """Where `job` would go on `capacity` (the live fleet or a copy), or None."""
        ...

    def rack_jobs(self, rack: int) -> set[int]:
        """The running jobs on `rack` (do not change the set)."""
        ...

    def victim_order(self, victim: int) -> Key:
        """Tie-break among preemption victims of equal priority and rank (smaller first)."""
        ...

    def queue_head(self, queue: int) -> int | None:
        """The first waiting job of `queue` in the policy's order (None: none waits)."""
        ...


class SchedulerCore(SchedulerView, Protocol):
    """The calls a simulation makes to a scheduler (the engine-level boundary)."""

    history: dict[int, list[tuple[float, str]]]
    """Per job, (time, reason) each time its reason changed."""
    reserved_s: np.ndarray
    """Per job, the first start a backfill reservation promised it (NaN: none)."""

    # -- events
    def submit(self, job: int) -> None:
        """A job arrives (the caller has checked it can ever fit); the next pass sees it."""
        ...

    def end(self, job: int, now: float) -> Allocation:
        """A running job finished: free its GPUs and quota."""
        ...

    def preempt(self, job: int, now: float, reason: str, replan: bool = True) -> None:
        """Stop running `job` for someone else; it waits again."""
        ...

    def interrupt(self, job: int, now: float, cause: str) -> bool:
        """A failure stopped `job`; returns whether it waits again (else it failed for good)."""
        ...

    def restart_in_place(self, job: int, now: float, failed_node: int, spare: int, cause: str) -> float | None:
        """A failed node of `job` was swapped for `spare`: its new run time (None: it failed for good)."""
        ...

    def rerank(self, job: int) -> None:
        """The policy's rank of `job` moved by itself (a timer)."""
        ...

    def start_round(self) -> None:
        """A round of a round-based policy starts: the next pass plays it."""
        ...

    def capacity_added(self) -> None: ...

    def capacity_lost(self) -> None: ...

    def capacity_returned(self) -> None:
        """GPUs held outside the queues (serving replicas) came back."""
        ...

    def capacity_taken(self, racks: np.ndarray) -> None:
        """GPUs of `racks` went to someone outside the queues."""
        ...

    def schedule(self, now: float) -> PassResult:
        """One pass: start (and preempt) what the rules allow at `now`."""
        ...

    # -- questions
    def has_waiting(self) -> bool: ...

    def jobs_on_node(self, node: int) -> list[tuple[int, int]]:
        """(job, GPUs it holds there) of the running jobs on `node`, in job order."""
        ...

    def jobs_on_rack(self, rack: int) -> list[int]: ...

    def unusable_gpus(self) -> int:
        """Free GPUs the smallest waiting gang cannot use."""
        ...

    def shapes_waiting(self) -> set[int]: ...

    def shapes_running(self) -> set[int]: ...

    def reserved_extra(self) -> np.ndarray | None:
        """Per rack, what the standing reservation leaves others (EASY's extra GPUs; None: none stands)."""
        ...

    def explain_waiting(self) -> None:
        """At the end of a run: give every waiting job a reason."""
        ...
