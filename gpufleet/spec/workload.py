"""Workload spec: synthetic job generators and explicit named jobs.

Each entry of `workloads:` is a one-key mapping naming its kind (`synthetic:` or
`jobs:`), so new kinds (traces, inference services) slot in beside them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from gpufleet.spec.base import SpecModel, Timestamp


class DurationDist(StrEnum):
    lognormal = "lognormal"
    exponential = "exponential"
    fixed = "fixed"


class DurationSpec(SpecModel):
    """A run-time distribution in hours.

    lognormal: `median_hours` and `sigma` (of the log); exponential: `mean_hours`;
    fixed: `hours`.
    """

    dist: DurationDist = DurationDist.lognormal
    median_hours: PositiveFloat | None = None
    sigma: NonNegativeFloat | None = None
    mean_hours: PositiveFloat | None = None
    hours: PositiveFloat | None = None

    @model_validator(mode="after")
    def _fields_match_dist(self) -> DurationSpec:
        needed = {
            DurationDist.lognormal: ("median_hours", "sigma"),
            DurationDist.exponential: ("mean_hours",),
            DurationDist.fixed: ("hours",),
        }[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"dist {self.dist.value} needs {', '.join(missing)}")
        extra = [
            name
            for name in ("median_hours", "sigma", "mean_hours", "hours")
            if name not in needed and getattr(self, name) is not None
        ]
        if extra:
            raise ValueError(f"dist {self.dist.value} does not take {', '.join(extra)}")
        return self


class SizeComponent(SpecModel):
    """One component of the job-size mixture, with its own run-time distribution."""

    gpus: Annotated[PositiveInt, Field(description="GPUs per job.")]
    weight: Annotated[PositiveFloat, Field(description="Relative share of arrivals.")]
    duration: DurationSpec
    group_size: Annotated[
        PositiveInt | None,
        Field(description="NVLink group size; default: the generator's group_size."),
    ] = None
    within_block: Annotated[bool, Field(description="Keep the whole gang in one block.")] = False


class ArrivalSpec(SpecModel):
    """Poisson arrivals whose rate grows month by month: rate x (1 + growth)^month."""

    rate_per_day: Annotated[PositiveFloat, Field(description="Mean arrivals per day at start.")]
    monthly_growth: Annotated[
        float, Field(ge=-0.99, description="Compound growth of the rate per calendar month.")
    ] = 0.0


class Estimate(StrEnum):
    """What the scheduler believes a job's run time to be (used for reservations)."""

    exact = "exact"
    time_limit = "time_limit"


class SyntheticSpec(SpecModel):
    """A stream of training jobs drawn from a size mixture and duration distributions."""

    name: str
    team: str | None = None
    start: Annotated[Timestamp | None, Field(description="First arrival; default scenario start.")] = None
    end: Annotated[Timestamp | None, Field(description="Last arrival; default scenario end.")] = None
    arrivals: ArrivalSpec
    sizes: Annotated[list[SizeComponent], Field(min_length=1)]
    group_size: Annotated[
        PositiveInt, Field(description="Default NVLink group size, capped at the job's GPUs.")
    ] = 8
    time_limit_hours: Annotated[
        PositiveFloat | None, Field(description="Jobs running longer are stopped; none = no limit.")
    ] = None
    estimate: Annotated[
        Estimate, Field(description="Run time the scheduler plans with: exact or time_limit.")
    ] = Estimate.exact
    flavors: Annotated[
        list[str] | None, Field(description="GPU types the jobs may run on; default any.")
    ] = None


class ExplicitJob(SpecModel):
    """One named job, e.g. a frontier training run."""

    name: str
    gpus: PositiveInt
    group_size: Annotated[
        PositiveInt | None, Field(description="NVLink group size; default min(gpus, 8).")
    ] = None
    within_block: bool = False
    duration_hours: PositiveFloat | None = None
    duration_days: PositiveFloat | None = None
    time_limit_hours: PositiveFloat | None = None
    time_limit_days: PositiveFloat | None = None
    submit: Annotated[
        Timestamp | Literal["when_capacity"] | None,
        Field(
            description="Submit date, or 'when_capacity': the first date the fleet as "
            "delivered could hold the job. Default: scenario start."
        ),
    ] = None
    team: str | None = None
    flavors: list[str] | None = None

    @model_validator(mode="after")
    def _one_duration(self) -> ExplicitJob:
        if (self.duration_hours is None) == (self.duration_days is None):
            raise ValueError("give exactly one of duration_hours or duration_days")
        if self.time_limit_hours is not None and self.time_limit_days is not None:
            raise ValueError("give at most one of time_limit_hours or time_limit_days")
        return self

    @property
    def duration_h(self) -> float:
        """Run time in hours."""
        return self.duration_hours if self.duration_hours is not None else self.duration_days * 24.0  # type: ignore[operator]

    @property
    def time_limit_h(self) -> float | None:
        """Time limit in hours, or None for no limit."""
        if self.time_limit_days is not None:
            return self.time_limit_days * 24.0
        return self.time_limit_hours


class JobsSpec(SpecModel):
    """A list of explicit jobs."""

    name: str
    team: str | None = None
    items: Annotated[list[ExplicitJob], Field(min_length=1)]


class WorkloadEntry(SpecModel):
    """One workload: exactly one of its kinds."""

    synthetic: SyntheticSpec | None = None
    jobs: JobsSpec | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> WorkloadEntry:
        kinds = [name for name in ("synthetic", "jobs") if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a workload names exactly one kind: synthetic or jobs (got {kinds or 'none'})")
        return self

    @property
    def spec(self) -> SyntheticSpec | JobsSpec:
        return self.synthetic if self.synthetic is not None else self.jobs  # type: ignore[return-value]
