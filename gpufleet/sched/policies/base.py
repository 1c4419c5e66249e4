"""The policy interface and its registry: a queue-ordering policy is one registered class.

A policy orders pending jobs (`key`, smaller first), may order queues against each other
(`queue_rank`, for fair sharing), and may ask to preempt running jobs that it ranks below
a waiting one (`preempts`). Policies read job state through a `PolicyContext` and never
change it; hooks tell them when jobs start and stop.

To add a policy, write one module in this package with a class decorated by
`@POLICIES.register("name")`; the package imports every module in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from gpufleet.registry import Registry
from gpufleet.sched.progress import JobProgress
from gpufleet.workload.jobs import JobTable

Key = tuple[Any, ...]
"""A sort key ending with the job index (an int), so ties break in submit order; before it,
the policy's values (floats) and, with stable ties, an exact label (`sched.ties`)."""


class PolicyOptions(BaseModel):
    """Options of a policy (none by default); subclasses declare their own fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class PolicyContext:
    """What a policy may read about jobs, queues and capacity.

    Attributes:
        jobs: the job table.
        progress: per-job progress (work done, service attained, restarts).
        priority: per-job priority value (higher first).
        queue: per-job queue index.
        queue_weights: per-queue fair-share weight.
        flavor_of_pool: per-pool flavor (GPU type) index.
        capacity_by_flavor: callable giving installed GPUs per flavor now.
        half_life_s: usage half-life for fair sharing (None: current usage only).
    """

    jobs: JobTable
    progress: JobProgress
    priority: list[int]
    queue: list[int]
    queue_weights: list[float]
    flavor_of_pool: list[int]
    capacity_by_flavor: Any
    half_life_s: float | None = None
    n_flavors: int = 1
    options: dict[str, Any] = field(default_factory=dict)


class Policy:
    """Base class with the neutral behaviour: no queue ranking, no preemption, no timers."""

    Options: type[PolicyOptions] = PolicyOptions
    dynamic_queue_order = False
    preemptive = False
    round_s: float | None = None
    """Round-based policies (gavel_las) decide only at round starts, every `round_s` seconds."""
    keys_move = False
    """Whether a job's place in the order moves while it runs (srtf, srsf, las): only then do
    stable ties (`sched.ties`) differ from submit order."""

    def __init__(self, context: PolicyContext) -> None:
        self.context = context
        self.options = self.Options(**context.options)

    def key(self, job: int) -> Key:
        """Position of a pending job (must not change while it waits, except via `rekey_at`)."""
        raise NotImplementedError

    def queue_rank(self, queue: int, now: float) -> tuple[float, ...]:
        """Order between queues (smaller first); the same for all queues unless fair sharing."""
        del queue, now  # Unused.
        return (0.0,)

    def preempts(self, job: int, victim: int, now: float) -> bool:
        """Whether waiting `job` should take the place of running `victim` on its own account."""
        del job, victim, now  # Unused.
        return False

    def victim_rank(self, victim: int, now: float) -> float:
        """Among allowed victims, larger ranks are preempted first."""
        del victim, now  # Unused.
        return 0.0

    def sort_value(self, job: int, now: float, running: bool) -> tuple[float, ...]:
        """The job's place in a list of waiting and running jobs sorted by this policy now
        (its key without the job index; `ties: stable` orders equals by their last place)."""
        del now, running  # Unused: the key does not change while the job runs.
        return tuple(self.key(job)[:-1])

    def next_change(self, job: int, now: float, running: bool) -> float | None:
        """When the job's rank will change by itself (a timer), or None."""
        del job, now, running  # Unused.
        return None

    def on_timer(self, job: int, now: float, running: bool) -> None:
        """A time from `next_change` has come (the scheduler then re-ranks the job)."""

    def on_start(self, job: int, pool: int, now: float) -> None:
        """A job started (or restarted) on `pool`."""

    def on_stop(self, job: int, pool: int, now: float, finished: bool) -> None:
        """A job stopped (finished, or preempted)."""


POLICIES: Registry[type[Policy]] = Registry("policy")
