"""Scheduler spec: queue ordering, backfill, placement, Kueue-style queues and preemption.

Names follow Kueue where users know them (ClusterQueue -> `queues`, LocalQueue ->
`tenants`, cohort, nominal quota, borrowing and lending limits, queueing strategy,
preemption policies, WorkloadPriorityClass -> `priority_classes`), in snake_case; enum
values keep Kueue's spelling (StrictFIFO, LowerPriority, ...).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from gpufleet.spec.base import SpecModel, unless_set
from gpufleet.spec.workload import Estimate


class Backfill(StrEnum):
    """What may start behind a job that does not fit.

    easy: EASY backfill (Slurm sched/backfill): the first blocked job gets a reservation;
        later jobs start only if they do not delay it.
    greedy: anything that fits starts (Kueue BestEffortFIFO across the fleet); big jobs
        may starve.
    none: strict order across the fleet (Slurm sched/builtin).
    """

    easy = "easy"
    greedy = "greedy"
    none = "none"


class TimeLimits(StrEnum):
    """What a job's time limit caps.

    wall_clock: the time it holds its GPUs, counted from its first start and summed over
        its runs (time before a preemption or an interruption counts; time waiting in the
        queue does not), as Kueue's maximum execution time does and as Slurm's TimeLimit
        does for a run that is never stopped. A job that reaches it is stopped, keeping
        the work up to its last checkpoint.
    work: the work it does (its run time is cut at the limit, however long failures and
        restarts make it take).
    """

    wall_clock = "wall_clock"
    work = "work"


class PreemptionScope(StrEnum):
    """Which waiting jobs of a pass may preempt running ones.

    first_blocked: in each queue, jobs up to and including the first one that cannot
        start (Kueue: only the head of a queue preempts).
    any: every waiting job in policy order, as the research simulators (Tiresias,
        Gavel) that re-decide the whole allocation at every event.
    """

    first_blocked = "first_blocked"
    any = "any"


class PreemptionCost(StrEnum):
    """What a preempted job loses.

    checkpoint: the work since its last checkpoint, and it pays the restart overhead
        (`checkpointing`).
    none: nothing: it resumes with every second of its work and no restart overhead,
        as the research simulators suspend and resume jobs. Failures still cost.
    """

    checkpoint = "checkpoint"
    none = "none"


class Ties(StrEnum):
    """How jobs with equal policy keys are ordered.

    submit_order: the earlier-submitted job first among waiting jobs; among preemption
        victims of equal rank the most recently started first.
    stable: the order of the previous pass among equals (what simulators that re-sort
        one job list with a stable sort at every event do); newcomers after everyone.
    """

    submit_order = "submit_order"
    stable = "stable"


class QueueingStrategy(StrEnum):
    """Within one queue (Kueue queueingStrategy)."""

    StrictFIFO = "StrictFIFO"
    BestEffortFIFO = "BestEffortFIFO"


class WithinQueuePreemption(StrEnum):
    Never = "Never"
    LowerPriority = "LowerPriority"
    LowerOrNewerEqualPriority = "LowerOrNewerEqualPriority"


class ReclaimPreemption(StrEnum):
    Never = "Never"
    LowerPriority = "LowerPriority"
    Any = "Any"


class BorrowPreemption(StrEnum):
    Never = "Never"
    LowerPriority = "LowerPriority"


class PreemptionSpec(SpecModel):
    """When a queue's jobs may preempt running jobs (Kueue ClusterQueue.spec.preemption)."""

    within_cluster_queue: Annotated[
        WithinQueuePreemption, Field(description="Preempt jobs of the same queue.")
    ] = WithinQueuePreemption.Never
    reclaim_within_cohort: Annotated[
        ReclaimPreemption,
        Field(description="Take back nominal quota lent to other queues of the cohort by preempting their jobs."),
    ] = ReclaimPreemption.Never
    borrow_within_cohort: Annotated[
        BorrowPreemption,
        Field(description="While borrowing, preempt lower-priority jobs of other queues of the cohort."),
    ] = BorrowPreemption.Never


class FairShareSpec(SpecModel):
    weight: Annotated[PositiveFloat, Field(description="Share weight (Kueue fairSharing.weight).")] = 1.0


class QueueSpec(SpecModel):
    """A ClusterQueue: quota per flavor (GPU type) for the tenants (teams) it serves."""

    name: str
    tenants: Annotated[list[str], Field(description="Teams whose jobs this queue admits (LocalQueues).")] = []
    cohort: Annotated[str | None, Field(description="Cohort whose members lend each other unused quota.")] = None
    nominal: Annotated[
        dict[str, NonNegativeInt],
        Field(description="GPUs guaranteed per flavor (GPU type); a flavor not listed has 0."),
    ] = {}
    borrowing_limit: Annotated[
        dict[str, NonNegativeInt],
        Field(description="Most GPUs per flavor borrowed beyond nominal; unlisted: no limit."),
    ] = {}
    lending_limit: Annotated[
        dict[str, NonNegativeInt],
        Field(description="Most unused nominal GPUs per flavor lent to the cohort; unlisted: all of it."),
    ] = {}
    queueing_strategy: QueueingStrategy = QueueingStrategy.BestEffortFIFO
    preemption: PreemptionSpec = PreemptionSpec()
    fair_share: FairShareSpec = FairShareSpec()
    providers: Annotated[
        list[str] | None,
        Field(exclude_if=unless_set(None),
              description="Providers whose pools (flavors) the queue's jobs may use, preferred first: Kueue's "
                          "ordered flavors with TryNextFlavor; default: any. A job's own `providers` win."),
    ] = None


class CohortSpec(SpecModel):
    """A node of the cohort tree; every queue under one root shares unused quota."""

    name: str
    parent: str | None = None


class PriorityClassSpec(SpecModel):
    """A WorkloadPriorityClass: a value for the jobs of some teams (higher runs first)."""

    name: str
    value: int
    teams: Annotated[list[str], Field(description="Teams whose jobs get this priority.")] = []
    default: Annotated[bool, Field(description="The class of jobs whose team is not listed anywhere.")] = False


class FairShareDecaySpec(SpecModel):
    half_life_hours: Annotated[
        PositiveFloat | None,
        Field(description="Half-life of past usage in fair-share ordering (Slurm PriorityDecayHalfLife, "
                          "Kueue usageHalfLifeTime); none: current allocation only (plain DRF)."),
    ] = None


class PolicySpec(SpecModel):
    """A queue-ordering policy by name, with that policy's own options."""

    model_config = SpecModel.model_config | {"extra": "allow"}

    name: str

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SchedulerSpec(SpecModel):
    """How pending jobs are ordered, admitted against quota, placed and preempted."""


    policy: Annotated[
        PolicySpec,
        Field(description="Queue ordering: fifo, priority, sjf, srtf, srsf, fgf, fgf_preemptive, las, drf, gavel_las, "
                          "gavel_las_agnostic (a name, or {name, options...})."),
    ] = PolicySpec(name="fifo")
    backfill: Annotated[Backfill, Field(description="easy (default), greedy or none; true = easy, false = none.")] = \
        Backfill.easy
    placement: Annotated[str, Field(description="Placement strategy: best_fit, spread, random.")] = "best_fit"
    estimate: Annotated[
        Estimate,
        Field(description="Run time backfill plans with, for workloads that do not say: time_limit (Slurm's "
                          "behaviour; no limit: a year) or exact (the true run time)."),
    ] = Estimate.time_limit
    time_limits: Annotated[
        TimeLimits,
        Field(description="What a time limit caps: wall_clock (time held since the first start, as Slurm "
                          "TimeLimit and Kueue's maximum execution time) or work (work done)."),
    ] = TimeLimits.wall_clock
    plan_for_failures: Annotated[
        bool,
        Field(description="Backfill plans each job to take its expected time under the failure model (the "
                          "exact renewal formula: interruptions x (lost work + restart)), within its limit."),
    ] = True
    max_job_test: Annotated[
        PositiveInt,
        Field(description="Most pending jobs one pass examines after the first blocked one (Slurm bf_max_job_test)."),
    ] = 500
    queues: Annotated[list[QueueSpec], Field(description="ClusterQueues; none: one queue without quota.")] = []
    cohorts: list[CohortSpec] = []
    priority_classes: list[PriorityClassSpec] = []
    fair_share: FairShareDecaySpec = FairShareDecaySpec()
    preemption_scope: Annotated[
        PreemptionScope,
        Field(exclude_if=unless_set(PreemptionScope.first_blocked),
              description="Which waiting jobs may preempt: first_blocked (default; the first job of a queue that "
                          "cannot start, as Kueue) or any (every waiting job in policy order, as research "
                          "simulators)."),
    ] = PreemptionScope.first_blocked
    preemption_cost: Annotated[
        PreemptionCost,
        Field(exclude_if=unless_set(PreemptionCost.checkpoint),
              description="What a preempted job loses: checkpoint (default: the work since its last checkpoint, "
                          "plus the restart overhead) or none (it keeps every second of its work)."),
    ] = PreemptionCost.checkpoint
    ties: Annotated[
        Ties,
        Field(exclude_if=unless_set(Ties.submit_order),
              description="Order among equal policy keys: submit_order (default) or stable (the previous "
                          "pass's order, as list-sorting simulators)."),
    ] = Ties.submit_order
    policy_options: Annotated[
        dict[str, dict[str, Any]],
        Field(exclude_if=unless_set({}),
              description="Options of other policies, by policy name, used when `compare` or `run --policy` "
                          "switches to them (the scenario's own policy takes its options from `policy`)."),
    ] = {}

    def options_for(self, policy: str | None) -> dict[str, Any]:
        """The options a run under `policy` (None: the scenario's own) uses."""
        if policy is None or policy == self.policy.name:
            return self.policy.options
        return dict(self.policy_options.get(policy, {}))

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("policy"), str):
                data["policy"] = {"name": data["policy"]}
            if isinstance(data.get("backfill"), bool):
                data["backfill"] = "easy" if data["backfill"] else "none"
        return data
