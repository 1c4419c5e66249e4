"""The scenario: everything one simulation run needs, as the user wrote it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, NonNegativeInt, model_validator

from gpufleet.spec.base import SpecModel, Timestamp, unless_set
from gpufleet.spec.contract import ContractSpec
from gpufleet.spec.failures import CheckpointSpec, FailuresSpec
from gpufleet.spec.fleet import FleetSpec, GpuTypeSpec
from gpufleet.spec.scheduler import SchedulerSpec
from gpufleet.spec.serving import ServiceSpec
from gpufleet.spec.throughput import ThroughputSpec
from gpufleet.spec.value import ValueSpec
from gpufleet.spec.workload import WorkloadEntry


class Scenario(SpecModel):
    """A fleet, its contract, its workloads and its scheduler over a horizon."""


    name: str
    description: str = ""
    start: Annotated[Timestamp, Field(description="Simulation start (time 0), UTC.")]
    end: Annotated[Timestamp, Field(description="Simulation horizon, UTC.")]
    seed: Annotated[NonNegativeInt, Field(description="Root of every random stream.")] = 0
    gpu_types: Annotated[
        dict[str, GpuTypeSpec], Field(description="GPU types beyond (or overriding) the catalog.")
    ] = {}
    fleet: FleetSpec
    contract: ContractSpec | None = None
    contracts: Annotated[
        list[ContractSpec],
        Field(exclude_if=unless_set([]),
              description="A portfolio: several contracts, each with its provider and pools (docs/portfolio.md); "
                          "`contract:` is the one-contract shorthand."),
    ] = []
    workloads: list[WorkloadEntry] = []
    scheduler: SchedulerSpec = SchedulerSpec()
    services: Annotated[
        list[ServiceSpec], Field(description="Inference services sharing the fleet with training (docs/serving.md).")
    ] = []
    failures: Annotated[FailuresSpec | None, Field(description="What fails and how often; none: nothing.")] = None
    checkpointing: Annotated[
        CheckpointSpec, Field(description="Checkpoint interval and cost, restart overhead (preemption, failures).")
    ] = CheckpointSpec()
    assumption_driven: Annotated[
        dict[str, str],
        Field(exclude_if=unless_set({}),
              description="Answers set by assumption rather than by sourced figures: answer -> the assumptions that "
              "drive it. Shown in the report's headline and the terminal summary."),
    ] = {}
    value: Annotated[
        ValueSpec | None,
        Field(exclude_if=unless_set(None),
              description="Cost of a day of delay (named jobs, size ranges) and revenue per million tokens: "
              "money answers then include the cost of waiting (docs/scenarios.md)."),
    ] = None
    throughput: Annotated[
        ThroughputSpec | None,
        Field(exclude_if=unless_set(None),
              description="Speed per job class and GPU type, relative to a reference type; none: every job runs "
                          "its duration on any type (docs/scheduling.md, 'Speed per GPU type')."),
    ] = None

    @model_validator(mode="after")
    def _one_way_to_give_contracts(self) -> Scenario:
        if self.contract is not None and self.contracts:
            raise ValueError("give `contract` (one contract) or `contracts` (a portfolio), not both")
        return self

    @property
    def all_contracts(self) -> list[ContractSpec]:
        """Every contract: the `contract:` shorthand's one, or the `contracts:` list."""
        return [self.contract] if self.contract is not None else list(self.contracts)

    def seconds(self, when: datetime) -> float:
        """Simulated seconds from `start` to the calendar time `when`."""
        return (when - self.start).total_seconds()
