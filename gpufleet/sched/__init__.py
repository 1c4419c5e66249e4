"""Who runs where: queue policies, topology-aware gang placement, the scheduling pass."""

from gpufleet.sched.placement import PLACEMENTS, BestFitPlacement, PlacementStrategy
from gpufleet.sched.policies import POLICIES, FifoPolicy, QueuePolicy
from gpufleet.sched.scheduler import Reservation, Scheduler

__all__ = [
    "PLACEMENTS",
    "POLICIES",
    "BestFitPlacement",
    "FifoPolicy",
    "PlacementStrategy",
    "QueuePolicy",
    "Reservation",
    "Scheduler",
]
