"""Queue-ordering policies, registered by name: a policy maps a job to its sort key.

A key is a tuple ending with the job index, so equal priorities break ties by submit
order and the job is recoverable from its key.
"""

from __future__ import annotations

from typing import Protocol

from gpufleet.registry import Registry
from gpufleet.workload.jobs import JobTable

Key = tuple[float | int, ...]


class QueuePolicy(Protocol):
    """Orders pending jobs; smaller keys are considered first."""

    def key(self, job: int) -> Key:
        """Sort key of `job` (static: it must not change while the job waits)."""
        ...


POLICIES: Registry[type[QueuePolicy]] = Registry("policy")


@POLICIES.register("fifo", aliases=("fcfs",))
class FifoPolicy:
    """First come, first served: jobs in submit order."""

    def __init__(self, jobs: JobTable) -> None:
        del jobs  # Unused: the job index is already submit order.

    def key(self, job: int) -> Key:
        return (job,)
