"""Failures and checkpointing: what breaks, how often, how long repair takes, what a job
does about it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, model_validator

from gpufleet.spec.base import SpecModel, Timestamp
from gpufleet.spec.workload import DurationDist, DurationSpec


class Component(StrEnum):
    """What one failure takes down (its blast radius)."""

    gpu = "gpu"  # one GPU: the job holding it
    node = "node"  # one node (compute tray): every job on it
    rack = "rack"  # one NVLink domain (switch tray, power shelf): every job on it
    block = "block"  # one network block (spine switch): every job in it


class FailureDist(StrEnum):
    exponential = "exponential"
    weibull = "weibull"


class FailureProcessSpec(SpecModel):
    """One failure process: a component type failing at a rate, then repaired.

    Give the rate as `rate_per_unit_hour` (per GPU for `gpu`, per node, rack or block
    otherwise) or `mttf_hours` per unit. With `weibull`, `shape` < 1 gives infant
    mortality and > 1 wear-out; the scale is set so the mean time to failure matches.
    """

    name: Annotated[str, Field(description="Process name, e.g. 'gpu-hbm'.")]
    component: Component
    rate_per_unit_hour: Annotated[PositiveFloat | None, Field(description="Failures per unit-hour.")] = None
    mttf_hours: Annotated[PositiveFloat | None, Field(description="Mean hours between failures of one unit.")] = None
    distribution: FailureDist = FailureDist.exponential
    shape: Annotated[PositiveFloat, Field(description="Weibull shape (1 = exponential).")] = 1.0
    repair: Annotated[DurationSpec, Field(description="Time until the hardware is back.")] = DurationSpec(
        dist=DurationDist.lognormal, median_hours=4.0, sigma=1.0)
    causes: Annotated[
        dict[str, NonNegativeFloat],
        Field(description="Cause breakdown (relative weights) recorded with each failure, e.g. the Llama 3 table."),
    ] = {}
    pools: Annotated[list[str] | None, Field(description="Pools it strikes; default all.")] = None
    source: str = ""

    @model_validator(mode="after")
    def _one_rate(self) -> FailureProcessSpec:
        if (self.rate_per_unit_hour is None) == (self.mttf_hours is None):
            raise ValueError("give exactly one of rate_per_unit_hour or mttf_hours")
        return self

    @property
    def mean_hours(self) -> float:
        """Mean time between failures of one unit, in hours."""
        return self.mttf_hours if self.mttf_hours is not None else 1.0 / self.rate_per_unit_hour  # type: ignore[operator]


class RepairModel(StrEnum):
    """Repair times of the catalog's hardware processes."""

    assumed = "assumed"  # lognormal, median 4 h, sigma 1 (an assumption; `catalog_defaults: true`)
    fitted = "fitted"  # the quantile table `gpufleet faults fit` fits to the StepFun fault log's hardware faults


class CatalogDefaultsSpec(SpecModel):
    """Options of the catalog's default processes (docs/failures.md, "catalog_defaults").

    `catalog_defaults: true` is the 2024 set: the Llama 3 rates with assumed 4-hour
    repairs and no rack failures. This mapping form defaults to the calibrated set:
    repairs from the StepFun fault log, and rack-level failures of NVL72 racks.
    """

    repair: Annotated[
        RepairModel,
        Field(description="fitted: StepFun's hardware repair times (p50 33 h, p90 23 days); assumed: lognormal, "
              "median 4 h."),
    ] = RepairModel.fitted
    rack_failures: Annotated[
        bool,
        Field(description="Add NVLink switch tray, power shelf and cooling failures that take a whole NVLink "
              "rack down (racks of more than one node)."),
    ] = True
    rate_scale: Annotated[
        dict[str, PositiveFloat],
        Field(description="Multiply every catalog rate of pools of a GPU type, e.g. {GB300: 1.5} (a sensitivity; "
              "no published rates distinguish the generations)."),
    ] = {}


class SparesSpec(SpecModel):
    """Hot spares: nodes kept idle in each rack (as UltraServers expose spare instances).

    When a node of a running job fails and its rack has a healthy spare, the job swaps
    the spare in and restarts in place (losing the work since its last checkpoint)
    instead of going back to the queue.
    """

    nodes_per_rack: Annotated[NonNegativeInt, Field(description="Spare nodes per rack, not placeable.")] = 0


class InjectedFailureSpec(SpecModel):
    """One failure at a set time and place (a what-if, or a test): which rack of which pool
    (counted from 0 in delivery order), which node of it for node and GPU failures."""

    date: Timestamp
    pool: str
    rack: NonNegativeInt
    node: NonNegativeInt = 0
    component: Component = Component.node
    repair_hours: PositiveFloat = 4.0
    cause: str = "injected"


class FailuresSpec(SpecModel):
    """Failure processes and spares; absent = nothing fails."""

    processes: Annotated[list[FailureProcessSpec], Field(description="What fails, how often, repair times.")] = []
    catalog_defaults: Annotated[
        bool | CatalogDefaultsSpec,
        Field(description="Add the catalog's default processes of each pool's GPU type: true for the 2024 set "
              "(assumed 4 h repairs), or a mapping of options (fitted repairs and rack failures by default)."),
    ] = False
    spares: SparesSpec = SparesSpec()
    injected: Annotated[list[InjectedFailureSpec], Field(description="Failures at set times and places.")] = []

    @property
    def catalog_options(self) -> CatalogDefaultsSpec | None:
        """The options of the catalog defaults in the mapping form (None for `true`, `false`)."""
        return self.catalog_defaults if isinstance(self.catalog_defaults, CatalogDefaultsSpec) else None

    @property
    def uses_catalog(self) -> bool:
        """Whether the catalog's processes are added."""
        return self.catalog_defaults is not False


class CheckpointSpec(SpecModel):
    """How jobs checkpoint and restart (after preemption or failure).

    `interval_hours: young_daly` sets each job's interval to the Young/Daly optimum
    sqrt(2 x write cost x mean time between its interruptions) from the failure rates of
    the hardware it asks for.
    """

    interval_hours: Annotated[
        PositiveFloat | Literal["young_daly"],
        Field(description="Work between checkpoints, or 'young_daly'."),
    ] = 1.0
    write_minutes: Annotated[NonNegativeFloat, Field(description="Time one checkpoint write stalls the job.")] = 0.0
    restart_overhead_minutes: Annotated[
        NonNegativeFloat,
        Field(description="Detection, rescheduling and reload before a restarted job makes progress "
                          "(5-10 min, calibration.md 4d)."),
    ] = 10.0
    max_restarts: Annotated[
        NonNegativeInt | None, Field(description="Failures a job survives; one more and it fails. None: no limit.")
    ] = None
