"""Who runs where: queue policies, quota, topology-aware gang placement, preemption, the pass."""

from gpufleet.sched.core import PassResult, SchedulerCore, SchedulerView
from gpufleet.sched.placement import PLACEMENTS, BestFitPlacement, PlacementStrategy
from gpufleet.sched.policies import POLICIES, Policy, PolicyContext
from gpufleet.sched.progress import JobProgress
from gpufleet.sched.quota import QuotaBook
from gpufleet.sched.scheduler import Scheduler

__all__ = [
    "PLACEMENTS",
    "POLICIES",
    "BestFitPlacement",
    "JobProgress",
    "PassResult",
    "PlacementStrategy",
    "Policy",
    "PolicyContext",
    "QuotaBook",
    "Scheduler",
    "SchedulerCore",
    "SchedulerView",
]
