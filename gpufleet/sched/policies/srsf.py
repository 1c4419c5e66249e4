"""srsf: shortest remaining service first: estimated run time left x GPUs, preemptive.

The service a job still needs is its remaining run time times its GPUs (GPU-seconds):
a small job with a long run and a large job with a short one weigh alike. Tiresias (Gu et
al., NSDI 2019) compares its 2D-LAS against SRSF, and Gavel ships it. Like `srtf`, a
waiting job takes the place of a running one that needs more service than it does; run
times are the jobs' estimates (`estimates: exact`, the default) or predictions
(`estimates: predicted`).
"""

from __future__ import annotations

from gpufleet.sched.policies.base import POLICIES, Key
from gpufleet.sched.policies.sjf import SrtfPolicy


@POLICIES.register("srsf")
class SrsfPolicy(SrtfPolicy):
    """Least remaining GPU-seconds first; a waiting job preempts a running one needing more."""

    def remaining_service(self, job: int) -> float:
        return self.remaining_s(job) * self.context.progress.gpus[job]

    def running_service(self, job: int, now: float) -> float:
        return self.running_remaining_s(job, now) * self.context.progress.gpus[job]

    def key(self, job: int) -> Key:
        return (self.remaining_service(job), job)

    def preempts(self, job: int, victim: int, now: float) -> bool:
        return self.remaining_service(job) < self.running_service(victim, now)

    def victim_rank(self, victim: int, now: float) -> float:
        return self.running_service(victim, now)

    def sort_value(self, job: int, now: float, running: bool) -> tuple[float, ...]:
        return (self.running_service(job, now) if running else self.remaining_service(job),)
