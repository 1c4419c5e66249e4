"""The event vocabulary of a run: every kind of event, and their order at one instant.

Events run in time order. At one instant they run by `Phase` (lower first), and events of
one phase in the order they were scheduled. So a pass sees everything that happened at its
instant: capacity first (deliveries, retirements), then what frees or breaks hardware (job
ends, failures, repairs, interleaved as scheduled), then arrivals, then decisions (policy
timers, serving autoscaler decisions), then a round start, then the one scheduling pass,
then the hourly sample. docs/model.md#events describes each.

The processes of a run (failures, serving) see the simulation through `Host`, not whole.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Protocol

from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import FleetState
from gpufleet.sched.core import SchedulerCore
from gpufleet.sim.engine import Engine


class Event(IntEnum):
    """The kinds of event a run schedules."""

    CAPACITY = 0  # racks delivered or starting to retire (fleet.layout.PoolCapacity)
    JOB_END = 1  # a running job's run ends (finished, or stopped by its time limit)
    FAILURE = 2  # a failure process strikes, or an injected failure
    REPAIR = 3  # struck hardware is back
    ARRIVAL = 4  # a job is submitted
    TIMER = 5  # a policy's rank of a job moves by itself (las, gavel)
    DECIDE = 6  # a service's autoscaler decides (and its window ends)
    ROUND = 7  # a round of a round-based policy starts
    SCHEDULE = 8  # the scheduling pass
    SAMPLE = 9  # the hourly sample of what cannot be rebuilt afterwards


class Phase(IntEnum):
    """Order at one instant (the engine's priority): lower first; within a phase, as scheduled."""

    CAPACITY = 0
    HARDWARE = 1  # job ends, failures and repairs: all free or take hardware
    ARRIVAL = 2
    DECISION = 3  # policy timers and serving decisions
    ROUND = 4
    PASS = 5
    SAMPLE = 9


PHASE: dict[Event, Phase] = {
    Event.CAPACITY: Phase.CAPACITY,
    Event.JOB_END: Phase.HARDWARE,
    Event.FAILURE: Phase.HARDWARE,
    Event.REPAIR: Phase.HARDWARE,
    Event.ARRIVAL: Phase.ARRIVAL,
    Event.TIMER: Phase.DECISION,
    Event.DECIDE: Phase.DECISION,
    Event.ROUND: Phase.ROUND,
    Event.SCHEDULE: Phase.PASS,
    Event.SAMPLE: Phase.SAMPLE,
}
"""The phase of each kind of event."""


class Replicas(Protocol):
    """What a failure asks of the serving replicas of a run."""

    def on_node(self, node: int) -> list[tuple[tuple[int, int], int]]:
        """((service, replica), GPUs held on `node`) for the replicas on it."""
        ...

    def on_rack(self, rack: int) -> list[tuple[int, int]]: ...

    def lose(self, key: tuple[int, int], cause: str) -> None:
        """The replica's hardware failed: free its GPUs; a replacement is asked for."""
        ...


class Host(Protocol):
    """What the processes of a run (failures, serving replicas) use of the simulation."""

    @property
    def engine(self) -> Engine: ...

    @property
    def layout(self) -> FleetLayout: ...

    @property
    def state(self) -> FleetState: ...

    @property
    def scheduler(self) -> SchedulerCore: ...

    @property
    def until_s(self) -> float: ...

    @property
    def serving(self) -> Replicas | None: ...

    def request_pass(self) -> None:
        """Run a scheduling pass once everything at this instant has happened."""
        ...

    def interrupt(self, job: int, cause: str) -> None:
        """A failure stopped `job`: it waits again (or fails for good)."""
        ...

    def restart_in_place(self, job: int, node: int, spare: int, cause: str) -> None:
        """A failed node of `job` was swapped for a hot spare: it restarts where it is."""
        ...

    def preempt(self, job: int, reason: str) -> None:
        """Stop `job` for a serving replica that takes its GPUs at once."""
        ...
