"""Inference services: replica shape, autoscaling (SkyPilot's `replica_policy`), latency
target, demand curve or request trace, and how serving shares the fleet with training.

A scenario lists them under `services:`; docs/serving.md is the guide. Defaults that
are facts carry their source (../shared/calibration.md); the others say "assumption".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gpufleet.spec.base import SpecModel, Timestamp, path_beside_scenario, unless_set
from gpufleet.spec.request_format import RequestColumns
from gpufleet.spec.units import check_time_unit

SKYPILOT_UPSCALE_DELAY_S = 300.0
"""SkyPilot serve's default upscale_delay_seconds (sky/serve/constants.py)."""
SKYPILOT_DOWNSCALE_DELAY_S = 1200.0
"""SkyPilot serve's default downscale_delay_seconds (sky/serve/constants.py)."""


class ReplicaPolicySpec(SpecModel):
    """SkyPilot serve's `replica_policy`, with its semantics.

    At each decision the desired count is ceil(qps / target_qps_per_replica) clamped to
    [min_replicas, max_replicas]. The target moves up only after the desired count has
    been above it at int(upscale_delay_seconds / interval) consecutive decisions, down
    after int(downscale_delay_seconds / interval) decisions below it; from 0 replicas it
    moves at once. Without max_replicas and target_qps_per_replica the service keeps
    min_replicas (no autoscaling).
    """

    min_replicas: Annotated[NonNegativeInt, Field(description="Fewest replicas (0 allows scale to zero).")] = 1
    max_replicas: Annotated[
        PositiveInt | None, Field(description="Most replicas; none: fixed at min_replicas (no autoscaling).")
    ] = None
    target_qps_per_replica: Annotated[
        PositiveFloat | None,
        Field(description="Requests/s each replica should carry; desired replicas = ceil(qps / this)."),
    ] = None
    upscale_delay_seconds: Annotated[
        NonNegativeFloat, Field(description="How long the desired count must stay above the target before scaling up "
                                "(SkyPilot default 300).")
    ] = SKYPILOT_UPSCALE_DELAY_S
    downscale_delay_seconds: Annotated[
        NonNegativeFloat, Field(description="How long the desired count must stay below the target before scaling "
                                "down (SkyPilot default 1200).")
    ] = SKYPILOT_DOWNSCALE_DELAY_S

    @model_validator(mode="after")
    def _bounds(self) -> ReplicaPolicySpec:
        if (self.max_replicas is None) != (self.target_qps_per_replica is None):
            raise ValueError("give max_replicas and target_qps_per_replica together (autoscaling), or neither "
                             "(a fixed min_replicas)")
        if self.max_replicas is not None and self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas {self.max_replicas} is below min_replicas {self.min_replicas}")
        if self.max_replicas is None and self.min_replicas == 0:
            raise ValueError("a fixed service (no max_replicas) needs min_replicas of 1 or more")
        return self

    @property
    def upper(self) -> int:
        """The most replicas the policy ever asks for."""
        return self.max_replicas if self.max_replicas is not None else self.min_replicas


class ReplicaSpec(SpecModel):
    """One replica: a gang of GPUs inside NVLink domains, its warm-up, its throughput."""

    gpus: Annotated[PositiveInt, Field(description="GPUs per replica, e.g. 8, 36 or 72.")]
    group_size: Annotated[
        PositiveInt | None,
        Field(description="GPUs that must share one NVLink domain (rack); default: all of the replica's GPUs "
              "(a replica is one gang in one rack)."),
    ] = None
    warmup_minutes: Annotated[
        NonNegativeFloat,
        Field(description="From placement to serving (model load, warm-up); the replica holds its GPUs but adds "
              "no capacity meanwhile. Default 10: an assumption, not a measured figure."),
    ] = 10.0
    tokens_per_s_per_gpu: Annotated[
        dict[str, PositiveFloat],
        Field(description="Output tokens/s per GPU at the latency target, by GPU type; overrides the sourced "
              "defaults of gpufleet.serving.throughput (calibration.md 5b)."),
    ] = {}
    prefill: Annotated[
        bool,
        Field(exclude_if=unless_set(False),
              description="Prompt processing (prefill) costs GPU time: each prompt token not served from the "
              "prefix cache takes 1 / prefill_tokens_per_s_per_gpu GPU-seconds, which the replica no longer "
              "spends decoding (docs/serving.md, 'Prefill'). Default false: prompts cost nothing, as before."),
    ] = False
    prefill_tokens_per_s_per_gpu: Annotated[
        dict[str, PositiveFloat],
        Field(exclude_if=unless_set({}),
              description="Prompt tokens/s one GPU processes, by GPU type (with prefill: true); overrides the "
              "sourced defaults of gpufleet.serving.throughput."),
    ] = {}

    @model_validator(mode="after")
    def _group_divides(self) -> ReplicaSpec:
        if self.group_size is not None and self.gpus % self.group_size:
            raise ValueError(f"group_size {self.group_size} does not divide the replica's {self.gpus} GPUs")
        if self.prefill_tokens_per_s_per_gpu and not self.prefill:
            raise ValueError("prefill_tokens_per_s_per_gpu takes effect only with prefill: true")
        return self

    @property
    def group(self) -> int:
        """GPUs per NVLink group (the whole replica unless group_size says otherwise)."""
        return self.group_size if self.group_size is not None else self.gpus


class SloSpec(SpecModel):
    """The latency target: the wait before a request starts, and the decode speed each
    request gets (the throughput per GPU is quoted at that speed)."""

    wait_seconds: Annotated[
        PositiveFloat,
        Field(description="Queueing before a request starts that the SLO allows (seconds). Default 0.45: MLPerf "
              "Llama 2 70B interactive TTFT target (calibration.md 5b), applied to the queueing part."),
    ] = 0.45
    output_tokens_per_s_per_request: Annotated[
        PositiveFloat,
        Field(description="Decode speed of one request (tokens/s); a replica serves throughput / this requests at "
              "once. Default 25: MLPerf Llama 2 70B interactive TPOT 40 ms (calibration.md 5b)."),
    ] = 25.0


class SurgeSpec(SpecModel):
    """A launch's first days: demand is multiplied by `factor` more for `days` after the launch."""

    factor: Annotated[PositiveFloat, Field(description="Extra multiplier during the surge (on top of the step).")]
    days: Annotated[PositiveFloat, Field(description="How long the surge lasts after the launch.")]


class LaunchSpec(SpecModel):
    """A step in demand, e.g. a new model shipping: demand is multiplied by `factor` from `date` on,
    and by `surge.factor` more during the surge's first `surge.days` (a launch spike)."""

    date: Timestamp
    factor: Annotated[PositiveFloat, Field(description="Multiplies demand from the date on (steps compound).")]
    name: str = ""
    surge: Annotated[
        SurgeSpec | None, Field(exclude_if=unless_set(None),
              description="A spike right after the launch, e.g. {factor: 1.5, days: 3}.")
    ] = None


class RequestWindow(SpecModel):
    """A slice of a request trace, in seconds since its first arrival."""

    start_seconds: Annotated[NonNegativeFloat, Field(description="Skip arrivals before this.")] = 0.0
    end_seconds: Annotated[PositiveFloat | None, Field(description="Drop arrivals from this on.")] = None

    @model_validator(mode="after")
    def _ordered(self) -> RequestWindow:
        if self.end_seconds is not None and self.end_seconds <= self.start_seconds:
            raise ValueError(f"end_seconds {self.end_seconds} is not after start_seconds {self.start_seconds}")
        return self


class RequestTraceSpec(SpecModel):
    """A recorded request trace as demand (see docs/serving.md, "Demand from a trace").

    The (windowed) trace is laid end to end from the demand's start: its arrival count
    per interval gives the rate, its requests' tokens the token means. `time_scale`
    stretches it (0.5: twice the rate, half as long); `rate_scale` multiplies the rate;
    `repeat` copies play back to back, none = for ever.
    """

    format: Annotated[
        Literal["azure-llm", "generic-requests"],
        Field(description="azure-llm (Azure LLM inference trace 2023) or generic-requests (CSV / JSON Lines)."),
    ]
    path: Annotated[str, Field(description="Trace file; a relative path is read beside the scenario file when it "
                               "is there, else from the current directory.")]
    columns: Annotated[
        RequestColumns | None, Field(description="generic-requests: which column holds each field.")
    ] = None
    time_unit: Annotated[
        str, Field(description="generic-requests: unit of arrival times (s, ms, us, min, h, d, iso, or strptime).")
    ] = "s"
    window: Annotated[RequestWindow | None, Field(description="Use only this slice of the trace.")] = None
    time_scale: Annotated[
        PositiveFloat, Field(description="Multiplies the times between arrivals (0.5 doubles the rate).")
    ] = 1.0
    rate_scale: Annotated[
        PositiveFloat,
        Field(description="Multiplies the arrival rate (as if this many copies were superposed); not with a base "
              "rate, which sets the rate itself."),
    ] = 1.0
    repeat: Annotated[
        PositiveInt | None, Field(description="Copies played back to back; none: loop for ever.")
    ] = None

    @field_validator("time_unit")
    @classmethod
    def _time_unit(cls, value: str) -> str:
        return check_time_unit(value)

    @field_validator("path")
    @classmethod
    def _resolve_path(cls, value: str, info: ValidationInfo) -> str:
        return path_beside_scenario(value, info)

    @model_validator(mode="after")
    def _generic_options(self) -> RequestTraceSpec:
        if self.format == "azure-llm" and (self.columns is not None or self.time_unit != "s"):
            raise ValueError("only generic-requests takes columns or time_unit (azure-llm has a fixed layout)")
        return self


class DemandSpec(SpecModel):
    """Demand over time: a base rate shaped by hour of day and weekday, grown by calendar
    month and stepped by launches; or a request trace, optionally scaled to a base rate.

    rate(t) = base x hour_of_day[hour] x day_of_week[weekday] x (1 + monthly_growth)^month
    x product of launch factors so far, with each shape normalised to mean 1 (so the base
    is the mean over a week at the start). Hours and weekdays are UTC.
    """

    requests_per_s: Annotated[
        PositiveFloat | None, Field(description="Base rate: requests/s (mean over a week at the start).")
    ] = None
    output_tokens_per_s: Annotated[
        PositiveFloat | None, Field(description="Base rate as output tokens/s (instead of requests_per_s).")
    ] = None
    output_tokens_per_request: Annotated[
        PositiveFloat | None, Field(description="Mean output (generated) tokens per request; from the trace if any.")
    ] = None
    input_tokens_per_request: Annotated[
        NonNegativeFloat | None,
        Field(description="Mean input (prompt) tokens per request; reported, not served (see docs). Default 0, or "
              "from the trace."),
    ] = None
    hour_of_day: Annotated[
        list[NonNegativeFloat] | None,
        Field(description="24 relative weights by UTC hour (hour 0 first), normalised to mean 1. Default flat."),
    ] = None
    day_of_week: Annotated[
        list[NonNegativeFloat] | None,
        Field(description="7 relative weights by weekday (Monday first), normalised to mean 1. Default flat."),
    ] = None
    monthly_growth: Annotated[
        float, Field(ge=-0.99, description="Compound growth per calendar month after the demand's start.")
    ] = 0.0
    launches: Annotated[list[LaunchSpec], Field(description="Demand steps (e.g. a new model ships).")] = []
    trace: Annotated[RequestTraceSpec | None, Field(description="A recorded request trace as the demand.")] = None
    share: Annotated[
        float,
        Field(gt=0.0, le=1.0, exclude_if=unless_set(1.0),
              description="Share of this demand placed on this fleet (the rest is served "
              "elsewhere); multiplies the rate. Default 1: all of it."),
    ] = 1.0
    cached_input_share: Annotated[
        float,
        Field(ge=0.0, lt=1.0, exclude_if=unless_set(0.0),
              description="Share of prompt tokens served from the prefix (KV) cache, which "
              "need no prefill (with replica.prefill). Default 0."),
    ] = 0.0

    @field_validator("hour_of_day", "day_of_week")
    @classmethod
    def _shape(cls, value: list[float] | None, info: ValidationInfo) -> list[float] | None:
        if value is None:
            return value
        length = 24 if info.field_name == "hour_of_day" else 7
        if len(value) != length:
            raise ValueError(f"{info.field_name} takes {length} weights (got {len(value)})")
        if not sum(value) > 0:
            raise ValueError(f"{info.field_name}: the weights sum to zero")
        return value

    @model_validator(mode="after")
    def _one_rate(self) -> DemandSpec:
        if self.requests_per_s is not None and self.output_tokens_per_s is not None:
            raise ValueError("give the base rate once: requests_per_s or output_tokens_per_s")
        if self.trace is None:
            if self.requests_per_s is None and self.output_tokens_per_s is None:
                raise ValueError("give a base rate (requests_per_s or output_tokens_per_s) or a trace")
            if self.output_tokens_per_request is None:
                raise ValueError("output_tokens_per_request is needed without a trace")
            return self
        tokens = [name for name in ("output_tokens_per_request", "input_tokens_per_request")
                  if getattr(self, name) is not None]
        if tokens:
            raise ValueError(f"{', '.join(tokens)}: tokens per request come from the trace")
        if self.output_tokens_per_s is not None:
            raise ValueError("with a trace, scale it with requests_per_s (tokens per request come from the trace)")
        if self.requests_per_s is not None and self.trace.rate_scale != 1.0:
            raise ValueError("give requests_per_s or trace.rate_scale, not both")
        return self

    @property
    def base_requests_per_s(self) -> float | None:
        """The base rate in requests/s (None when a trace sets the rate)."""
        if self.requests_per_s is not None:
            return self.requests_per_s
        if self.output_tokens_per_s is not None and self.output_tokens_per_request is not None:
            return self.output_tokens_per_s / self.output_tokens_per_request
        return None


class SharingMode(StrEnum):
    """How a service's replicas get GPUs beside training."""

    preempt = "preempt"  # replicas outrank training and may preempt it
    quota = "quota"  # replicas live in a reserved queue's quota


class SharingSpec(SpecModel):
    """`preempt`: replicas have priority over training jobs and may preempt them (paying
    the checkpoint/restart cost of the preempted jobs); `quota`: replicas are admitted
    against the nominal quota of `queue` (a ClusterQueue of the scheduler section), like
    a team's jobs, and never preempt outside what that queue's preemption rules allow."""

    mode: SharingMode = SharingMode.preempt
    queue: Annotated[str | None, Field(description="quota: the ClusterQueue whose quota the replicas use.")] = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"mode": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _queue_matches_mode(self) -> SharingSpec:
        if self.mode is SharingMode.quota and not self.queue:
            raise ValueError("sharing quota needs a queue (the ClusterQueue that reserves the replicas' GPUs)")
        if self.mode is SharingMode.preempt and self.queue is not None:
            raise ValueError("sharing preempt takes no queue (use mode: quota for a reserved queue)")
        return self


class ProviderSplit(StrEnum):
    capacity = "capacity"
    cheapest_first = "cheapest_first"
    fixed = "fixed"


class ServiceProvidersSpec(SpecModel):
    """How a service runs across providers (docs/portfolio.md).

    capacity: the demand split in proportion to each provider's planned GPUs of the
    service's flavors over the service's window, one replica set per provider;
    fixed: split by `shares`; cheapest_first: one replica set whose replicas go to the
    provider with the lowest price per GPU-hour first and spill over to the next.
    """

    split: ProviderSplit = ProviderSplit.capacity
    among: Annotated[
        list[str] | None,
        Field(min_length=1, description="The providers it may run at; default: every provider with a pool of its "
                                        "flavors."),
    ] = None
    shares: Annotated[
        dict[str, Annotated[float, Field(ge=0.0, le=1.0)]],
        Field(description="fixed: the share of demand per provider (summing to 1)."),
    ] = {}
    source: Annotated[str, Field(description="Where the split comes from, or 'assumption'.")] = ""

    @model_validator(mode="after")
    def _shares_for_fixed(self) -> ServiceProvidersSpec:
        if self.split is ProviderSplit.fixed:
            if not self.shares:
                raise ValueError("split fixed needs shares (provider -> share of demand)")
            if abs(sum(self.shares.values()) - 1.0) > 1e-9:
                raise ValueError(f"shares sum to {sum(self.shares.values()):g}, not 1")
        elif self.shares:
            raise ValueError("shares apply to split fixed only")
        return self


class ServiceSpec(SpecModel):
    """One inference service: its replicas, autoscaling, latency target and demand."""

    name: str
    flavors: Annotated[list[str], Field(min_length=1, description="GPU types replicas may run on, preferred first.")]
    start: Annotated[Timestamp | None, Field(description="Service start (demand and replicas); default scenario "
                                             "start.")] = None
    end: Annotated[Timestamp | None, Field(description="Service end; default scenario end.")] = None
    replica: ReplicaSpec
    replica_policy: ReplicaPolicySpec = ReplicaPolicySpec()
    autoscaler_interval_seconds: Annotated[
        PositiveFloat, Field(description="Seconds between autoscaler decisions (and between interval metrics).")
    ] = 300.0
    slo: SloSpec = SloSpec()
    abandon_after_seconds: Annotated[
        PositiveFloat,
        Field(description="A request still waiting after this long gives up (dropped). Default 60: an assumption."),
    ] = 60.0
    warm_start: Annotated[
        bool,
        Field(description="At its start the service already runs the replicas its initial demand asks for (a "
              "service in production); false: it starts from min_replicas and scales up."),
    ] = True
    demand: DemandSpec
    sharing: Annotated[
        SharingSpec, Field(description="preempt (outrank training) or {mode: quota, queue: NAME} (reserved quota).")
    ] = SharingSpec()
    providers: Annotated[
        ServiceProvidersSpec | None,
        Field(exclude_if=unless_set(None),
              description="Run across providers, demand split by capacity, fixed shares or cheapest first; "
                          "none: any pool of its flavors (docs/portfolio.md)."),
    ] = None

    @model_validator(mode="after")
    def _cross_fields(self) -> ServiceSpec:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if self.abandon_after_seconds <= self.slo.wait_seconds:
            raise ValueError(f"abandon_after_seconds {self.abandon_after_seconds} must exceed the SLO wait "
                             f"{self.slo.wait_seconds}")
        if len({flavor.upper() for flavor in self.flavors}) != len(self.flavors):
            raise ValueError("flavors lists a GPU type twice")
        for field in ("tokens_per_s_per_gpu", "prefill_tokens_per_s_per_gpu"):
            unknown = [name for name in getattr(self.replica, field)
                       if name.upper() not in {flavor.upper() for flavor in self.flavors}]
            if unknown:
                raise ValueError(f"replica.{field} names {', '.join(unknown)}, not in flavors")
        return self
