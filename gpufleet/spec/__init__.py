"""What the user writes: pydantic models of a scenario, YAML loading, JSON Schema."""

from gpufleet.spec.contract import ContractSpec, ExpansionSpec
from gpufleet.spec.fleet import CapacityChange, FleetSpec, GpuTypeSpec, PoolSpec
from gpufleet.spec.loader import load_scenario, parse_scenario
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
    "load_scenario",
    "parse_scenario",
]
