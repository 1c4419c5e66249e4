"""drf: weighted dominant-resource fair share between queues, with optional usage decay.

A queue's share of flavor f is its usage of f over the installed GPUs of f; its dominant
share is the largest over flavors, divided by its weight. The queue with the smallest
dominant share goes first (DRF, Ghodsi et al. NSDI 2011; Kueue fairSharing). With a
half-life, usage is past GPU-seconds decayed exponentially (Slurm's fairshare with
PriorityDecayHalfLife, Kueue #9734's usageHalfLifeTime); without, it is the GPUs held now.
Within a queue, jobs go by priority, then submit order.
"""

from __future__ import annotations

import math

from gpufleet.sched.policies.base import POLICIES, Key, Policy, PolicyContext


@POLICIES.register("drf", aliases=("fair_share", "fairshare"))
class DrfPolicy(Policy):
    """Queues ordered by weighted dominant share; FIFO by priority inside a queue."""

    dynamic_queue_order = True

    def __init__(self, context: PolicyContext) -> None:
        super().__init__(context)
        n_queues = len(context.queue_weights)
        self.held = [[0.0] * context.n_flavors for _ in range(n_queues)]  # GPUs held now
        self.usage = [[0.0] * context.n_flavors for _ in range(n_queues)]  # decayed GPU-seconds
        self.updated = [0.0] * n_queues
        half_life = context.half_life_s
        self.decay = math.log(2) / half_life if half_life else None

    def key(self, job: int) -> Key:
        return (-self.context.priority[job], job)

    def _catch_up(self, queue: int, now: float) -> None:
        if self.decay is None:
            return
        elapsed = now - self.updated[queue]
        if elapsed > 0:
            fade = math.exp(-self.decay * elapsed)
            gain = (1.0 - fade) / self.decay
            usage, held = self.usage[queue], self.held[queue]
            for flavor in range(len(usage)):
                usage[flavor] = usage[flavor] * fade + held[flavor] * gain
            self.updated[queue] = now

    def dominant_share(self, queue: int, now: float) -> tuple[float, float]:
        """(dominant share, sum of shares) over the queue's weight; the sum breaks ties
        between equal dominant shares, as progressive filling on every flavor would."""
        capacity = self.context.capacity_by_flavor()
        self._catch_up(queue, now)
        source = self.held[queue] if self.decay is None else self.usage[queue]
        if self.decay is not None:  # GPU-seconds against the GPU-seconds one half-life of capacity holds
            capacity = [c / self.decay for c in capacity]
        shares = [used / cap for used, cap in zip(source, capacity, strict=True) if cap > 0]
        weight = self.context.queue_weights[queue]
        return max(shares, default=0.0) / weight, sum(shares) / weight

    def queue_rank(self, queue: int, now: float) -> tuple[float, float]:
        return self.dominant_share(queue, now)

    def on_start(self, job: int, pool: int, now: float) -> None:
        queue = self.context.queue[job]
        self._catch_up(queue, now)
        self.held[queue][self.context.flavor_of_pool[pool]] += self.context.progress.gpus[job]

    def on_stop(self, job: int, pool: int, now: float, finished: bool) -> None:
        queue = self.context.queue[job]
        self._catch_up(queue, now)
        self.held[queue][self.context.flavor_of_pool[pool]] -= self.context.progress.gpus[job]
