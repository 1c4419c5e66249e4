"""priority: higher priority class first, then submit order (Kueue's order within a queue)."""

from __future__ import annotations

from gpufleet.sched.policies.base import POLICIES, Key, Policy


@POLICIES.register("priority")
class PriorityPolicy(Policy):
    """Highest priority value first; FIFO among equals. Preemption comes from queue settings."""

    def key(self, job: int) -> Key:
        return (-self.context.priority[job], job)
