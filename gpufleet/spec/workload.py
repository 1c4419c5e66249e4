"""Workload spec: synthetic job generators, explicit named jobs and replayed traces.

Each entry of `workloads:` is a one-key mapping naming its kind (`synthetic:`, `jobs:`
or `trace:`), so new kinds (inference services) slot in beside them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, cast

from pydantic import (
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gpufleet.spec.base import SpecModel, Timestamp, path_beside_scenario, unless_set
from gpufleet.spec.units import check_duration_unit, check_time_unit


class DurationDist(StrEnum):
    lognormal = "lognormal"
    exponential = "exponential"
    fixed = "fixed"
    quantiles = "quantiles"
    trace = "trace"


class DurationSpec(SpecModel):
    """A duration distribution in hours.

    lognormal: `median_hours` and `sigma` (of the log); exponential: `mean_hours`;
    fixed: `hours`; quantiles: `quantiles_hours`, a table {probability: hours} from 0 to
    1, sampled by interpolating the inverse CDF (in log space between positive values);
    trace: the run times of a job trace (`path`, `format`), each job drawing one of them
    at random (zero taken as one second), as Gavel draws its durations from Philly's.
    """

    dist: DurationDist = DurationDist.lognormal
    median_hours: PositiveFloat | None = None
    sigma: NonNegativeFloat | None = None
    mean_hours: PositiveFloat | None = None
    hours: PositiveFloat | None = None
    quantiles_hours: dict[float, NonNegativeFloat] | None = None
    path: Annotated[str | None, Field(exclude_if=unless_set(None),
                                      description="dist trace: the job trace whose run times are drawn.")] = None
    format: Annotated[
        str | None,
        Field(exclude_if=unless_set(None),
              description="dist trace: its format, one with run times (philly-runtime, tiresias, alibaba-openb, "
                          "swf, gpufleet-jobs, slurm-sacct)."),
    ] = None

    @field_validator("path")
    @classmethod
    def _resolve_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else path_beside_scenario(value, info)

    @model_validator(mode="after")
    def _fields_match_dist(self) -> DurationSpec:
        if self.quantiles_hours is not None:
            probabilities = sorted(self.quantiles_hours)
            values = [self.quantiles_hours[p] for p in probabilities]
            decreasing = any(b < a for a, b in zip(values, values[1:], strict=False))
            if probabilities[0] != 0 or probabilities[-1] != 1 or decreasing:
                raise ValueError("quantiles_hours needs probabilities from 0 to 1 with hours that never decrease")
        needed = {
            DurationDist.lognormal: ("median_hours", "sigma"),
            DurationDist.exponential: ("mean_hours",),
            DurationDist.fixed: ("hours",),
            DurationDist.quantiles: ("quantiles_hours",),
            DurationDist.trace: ("path", "format"),
        }[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"dist {self.dist.value} needs {', '.join(missing)}")
        extra = [
            name
            for name in ("median_hours", "sigma", "mean_hours", "hours", "quantiles_hours", "path", "format")
            if name not in needed and getattr(self, name) is not None
        ]
        if extra:
            raise ValueError(f"dist {self.dist.value} does not take {', '.join(extra)}")
        if self.format is not None and self.format not in TRACE_RUN_TIME_FORMATS:
            raise ValueError(f"format {self.format!r}: choose one of {', '.join(TRACE_RUN_TIME_FORMATS)}")
        return self


TRACE_RUN_TIME_FORMATS = ("philly-runtime", "tiresias", "alibaba-openb", "swf", "gpufleet-jobs", "slurm-sacct")
"""Job trace formats with run times and a fixed layout (a run-time distribution can be drawn from them)."""


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
    """Poisson arrivals whose rate grows month by month: rate x (1 + growth)^month.

    Optional daily and weekly shapes make the process non-homogeneous: the rate in an
    hour is rate x (1 + growth)^month x hour_of_day[hour] x day_of_week[weekday], with
    each shape normalised to mean 1, so `rate_per_day` stays the mean over a week.
    """

    rate_per_day: Annotated[PositiveFloat, Field(description="Mean arrivals per day at start.")]
    monthly_growth: Annotated[
        float, Field(ge=-0.99, description="Compound growth of the rate per calendar month.")
    ] = 0.0
    hour_of_day: Annotated[
        list[NonNegativeFloat] | None,
        Field(description="24 relative weights of the arrival rate by hour of day (UTC, hour 0 first); "
              "normalised to mean 1. Default: flat."),
    ] = None
    day_of_week: Annotated[
        list[NonNegativeFloat] | None,
        Field(description="7 relative weights of the arrival rate by weekday (Monday first); "
              "normalised to mean 1. Default: flat."),
    ] = None

    @field_validator("hour_of_day", "day_of_week")
    @classmethod
    def _shape_length(cls, value: list[float] | None, info: ValidationInfo) -> list[float] | None:
        if value is None:
            return value
        length = 24 if info.field_name == "hour_of_day" else 7
        if len(value) != length:
            raise ValueError(f"{info.field_name} takes {length} weights (got {len(value)})")
        if not sum(value) > 0:
            raise ValueError(f"{info.field_name}: the weights sum to zero")
        return value

    @property
    def shaped(self) -> bool:
        """Whether the rate varies by hour of day or weekday."""
        return self.hour_of_day is not None or self.day_of_week is not None


class Estimate(StrEnum):
    """What the scheduler believes a job's run time to be (used for reservations).

    time_limit: the job's time limit, as Slurm's backfill plans (a job without one is
        planned to run a year, as Slurm plans an unlimited job); exact: its true run time
        (cut at its limit), which no real scheduler knows.
    """

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
        Estimate | None, Field(description="Run time the scheduler plans with: time_limit or exact; "
                               "default: the scheduler's `estimate`.")
    ] = None
    flavors: Annotated[
        list[str] | None, Field(description="GPU types the jobs may run on; default any.")
    ] = None
    providers: Annotated[
        list[str] | None,
        Field(exclude_if=unless_set(None),
              description="Providers whose pools the jobs may use, preferred first (a later provider's pools are "
                          "tried only when no earlier one's can take the gang now); default: any (docs/portfolio.md)."),
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
    providers: Annotated[
        list[str] | None,
        Field(exclude_if=unless_set(None),
              description="Providers whose pools the job may use, preferred first (a later provider's pools are "
                          "tried only when no earlier one's can take the gang now); default: any (docs/portfolio.md)."),
    ] = None
    start_by: Annotated[
        Timestamp | None,
        Field(exclude_if=unless_set(None),
              description="The date the plan needs the job started by: the summary says whether it did, and its "
              "delay (for `value.delay`) counts from here. Default: its submit time."),
    ] = None

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
    estimate: Annotated[
        Estimate | None, Field(description="Run time the scheduler plans with: time_limit or exact; "
                               "default: the scheduler's `estimate`.")
    ] = None


class TraceColumns(SpecModel):
    """Which header of a generic job CSV holds each field (`generic-jobs` format).

    Every field defaults to its own name. Optional fields (start, end, name, team, queue,
    priority, status) are read when mapped, or when a column of that name exists.
    Set a required field to null when the trace lacks it (`gpufleet trace stats` then
    reports what it can; a scenario workload needs submit, gpus and a run time).
    """

    submit: Annotated[str | None, Field(description="Submit (arrival) time, in `time_unit`.")] = "submit"
    gpus: Annotated[str | None, Field(description="GPUs requested (whole GPUs).")] = "gpus"
    duration: Annotated[
        str | None, Field(description="Run time, in `duration_unit`; or give start and end.")
    ] = "duration"
    start: Annotated[
        str | None, Field(description="Start time, in `time_unit`; start - submit is the real wait.")
    ] = None
    end: Annotated[str | None, Field(description="End time, in `time_unit`; with start, gives the run time.")] = None
    name: Annotated[str | None, Field(description="Job id.")] = None
    team: Annotated[str | None, Field(description="Team / user / account.")] = None
    queue: Annotated[str | None, Field(description="Queue / partition / virtual cluster.")] = None
    priority: Annotated[str | None, Field(description="Priority or QoS class.")] = None
    status: Annotated[str | None, Field(description="Final status (completed, failed, cancelled...).")] = None


class TraceWindow(SpecModel):
    """A slice of a trace, in days since its first arrival."""

    start_days: Annotated[NonNegativeFloat, Field(description="Skip arrivals before this day.")] = 0.0
    end_days: Annotated[PositiveFloat | None, Field(description="Drop arrivals from this day on.")] = None

    @model_validator(mode="after")
    def _ordered(self) -> TraceWindow:
        if self.end_days is not None and self.end_days <= self.start_days:
            raise ValueError(f"end_days {self.end_days} is not after start_days {self.start_days}")
        return self


class GpuSharing(StrEnum):
    """What a replay does with GPU-sharing pods (one GPU, gpu_milli < 1000)."""

    whole_gpu = "whole_gpu"
    skip = "skip"


class TraceSpec(SpecModel):
    """A recorded job trace replayed as a workload (see docs/traces.md).

    Jobs arrive at their recorded submit times (shifted so the window starts at `start`,
    then scaled by `time_scale`) with their recorded sizes and run times.
    """

    name: str
    format: Annotated[
        Literal["alibaba-openb", "generic-jobs", "slurm-sacct", "swf", "gpufleet-jobs", "tiresias", "philly-runtime"],
        Field(description="alibaba-openb (pod list), generic-jobs (any job CSV, with `columns`), slurm-sacct "
                          "(sacct -P), swf (Parallel Workloads Archive), gpufleet-jobs (what `gpufleet "
                          "import` writes), tiresias (the research simulators' job CSV) or philly-runtime "
                          "(run times only: see duration dist trace)."),
    ]
    path: Annotated[
        str, Field(description="Trace file; a relative path is read beside the scenario file when the loader "
                   "names the file and the trace is there, else from the current directory.")
    ]
    team: Annotated[str | None, Field(description="Team of jobs whose trace row names none.")] = None
    columns: Annotated[
        TraceColumns | None, Field(description="generic-jobs: which column holds each field.")
    ] = None
    time_unit: Annotated[
        str, Field(description="generic-jobs: unit of submit/start/end: s, ms, us, min, h, d, iso, or a "
                   "strptime format.")
    ] = "s"
    duration_unit: Annotated[str, Field(description="generic-jobs: unit of durations: s, ms, us, min, h, d.")] = "s"
    start: Annotated[
        Timestamp | None, Field(description="Scenario date the window's start is replayed at; default scenario start.")
    ] = None
    window: Annotated[TraceWindow | None, Field(description="Replay only this slice of the trace.")] = None
    time_scale: Annotated[
        PositiveFloat,
        Field(description="Multiplies the times between arrivals: 0.5 compresses the trace (twice the rate), "
              "2 stretches it. Run times are not changed."),
    ] = 1.0
    size_scale: Annotated[
        PositiveFloat, Field(description="Multiplies GPUs per job (rounded, at least 1).")
    ] = 1.0
    duration_scale: Annotated[PositiveFloat, Field(description="Multiplies run times.")] = 1.0
    repeat: Annotated[
        PositiveInt, Field(description="Play the (windowed, scaled) trace this many times back to back.")
    ] = 1
    group_size: Annotated[
        PositiveInt,
        Field(description="generic-jobs: NVLink group size; a job takes the largest divisor of its GPUs "
              "not above it. alibaba-openb pods always sit in one node."),
    ] = 8
    gpu_sharing: Annotated[
        GpuSharing,
        Field(description="alibaba-openb: GPU-sharing pods (gpu_milli < 1000) take a whole GPU (whole_gpu) "
              "or are left out (skip); either way they are counted."),
    ] = GpuSharing.whole_gpu
    flavors: Annotated[
        list[str] | None,
        Field(description="GPU types every job may run on; default: the trace's own constraints, else any."),
    ] = None
    providers: Annotated[
        list[str] | None,
        Field(exclude_if=unless_set(None),
              description="Providers whose pools the jobs may use, preferred first (a later provider's pools are "
                          "tried only when no earlier one's can take the gang now); default: any (docs/portfolio.md)."),
    ] = None
    time_limit_hours: Annotated[
        PositiveFloat | None, Field(description="Jobs running longer are stopped; none = no limit.")
    ] = None
    estimate: Annotated[
        Estimate | None, Field(description="Run time the scheduler plans with: time_limit or exact; "
                               "default: the scheduler's `estimate`.")
    ] = None
    strict: Annotated[
        bool, Field(description="A bad trace row is an error (default: counted, reported and skipped).")
    ] = False

    @field_validator("time_unit")
    @classmethod
    def _time_unit(cls, value: str) -> str:
        return check_time_unit(value)

    @field_validator("duration_unit")
    @classmethod
    def _duration_unit(cls, value: str) -> str:
        return check_duration_unit(value)

    @field_validator("path")
    @classmethod
    def _resolve_path(cls, value: str, info: ValidationInfo) -> str:
        return path_beside_scenario(value, info)

    @model_validator(mode="after")
    def _options_match_format(self) -> TraceSpec:
        if self.format != "generic-jobs":
            generic = [name for name in ("columns",) if getattr(self, name) is not None
                       and self.format != "slurm-sacct"]
            generic += [name for name, default in (("time_unit", "s"), ("duration_unit", "s"))
                        if getattr(self, name) != default]
            if generic:
                raise ValueError(f"only generic-jobs takes {', '.join(generic)} ({self.format} has a fixed layout)")
        if self.format != "alibaba-openb" and self.gpu_sharing is not GpuSharing.whole_gpu:
            raise ValueError("gpu_sharing applies to alibaba-openb only")
        return self


class WorkloadEntry(SpecModel):
    """One workload: exactly one of its kinds."""

    synthetic: SyntheticSpec | None = None
    jobs: JobsSpec | None = None
    trace: TraceSpec | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> WorkloadEntry:
        kinds = [name for name in KINDS if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a workload names exactly one kind: {', '.join(KINDS)} (got {kinds or 'none'})")
        return self

    @property
    def kind(self) -> str:
        """The entry's kind: synthetic, jobs or trace."""
        return next(name for name in KINDS if getattr(self, name) is not None)

    @property
    def spec(self) -> SyntheticSpec | JobsSpec | TraceSpec:
        return cast(SyntheticSpec | JobsSpec | TraceSpec, getattr(self, self.kind))


KINDS = ("synthetic", "jobs", "trace")
"""Workload kinds, in the order they are named in messages."""
