"""fifo: first come, first served."""

from __future__ import annotations

from gpufleet.sched.policies.base import POLICIES, Key, Policy


@POLICIES.register("fifo", aliases=("fcfs",))
class FifoPolicy(Policy):
    """Jobs in submit order (job indexes are submit order)."""

    def key(self, job: int) -> Key:
        return (job,)
