"""What the user writes: pydantic models of a scenario, YAML reading with file:line errors, JSON
Schema. Loading a scenario for a run (these models plus the checks across layers) is
`gpufleet.sim.load`."""

from gpufleet.spec.contract import ContractSpec, ExpansionSpec
from gpufleet.spec.fleet import CapacityChange, FleetSpec, GpuTypeSpec, PoolSpec
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.scheduler import SchedulerSpec
from gpufleet.spec.workload import (
    ArrivalSpec,
    DurationSpec,
    ExplicitJob,
    JobsSpec,
    SizeComponent,
    SyntheticSpec,
    WorkloadEntry,
)

__all__ = [
    "ArrivalSpec",
    "CapacityChange",
    "ContractSpec",
    "DurationSpec",
    "ExpansionSpec",
    "ExplicitJob",
    "FleetSpec",
    "GpuTypeSpec",
    "JobsSpec",
    "PoolSpec",
    "Scenario",
    "SchedulerSpec",
    "SizeComponent",
    "SyntheticSpec",
    "WorkloadEntry",
]
