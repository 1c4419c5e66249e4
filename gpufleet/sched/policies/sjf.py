"""sjf and srtf: shortest job first, and shortest remaining time first (preemptive).

Both rank by run time: the job's estimate (`estimates: exact`, the default), or a
prediction from the history of completed jobs of the same team and size when the true
run time is unknown (`estimates: predicted`, see `sched.predictor`).
"""

from __future__ import annotations

import math
from typing import Literal

from gpufleet.sched.policies.base import POLICIES, Key, Policy, PolicyContext, PolicyOptions
from gpufleet.sched.predictor import RunTimePredictor


class RunTimeOptions(PolicyOptions):
    estimates: Literal["exact", "predicted"] = "exact"
    """exact: the job's own estimate; predicted: the median of its team's recent jobs of its size."""


@POLICIES.register("sjf")
class SjfPolicy(Policy):
    """Shortest (estimated) job first, non-preemptive."""

    Options = RunTimeOptions
    options: RunTimeOptions

    def __init__(self, context: PolicyContext) -> None:
        super().__init__(context)
        self.predictor = RunTimePredictor(context.jobs) if self.options.estimates == "predicted" else None

    def expected_total_s(self, job: int) -> float:
        if self.predictor is not None:
            return self.predictor.predict(job)
        return self.context.progress.estimate_s[job]

    def remaining_s(self, job: int) -> float:
        return max(self.expected_total_s(job) - self.context.progress.done_s[job], 0.0)

    def key(self, job: int) -> Key:
        return (self.expected_total_s(job), job)

    def on_stop(self, job: int, pool: int, now: float, finished: bool) -> None:
        if finished and self.predictor is not None:
            self.predictor.observe(job, self.context.progress.held_s[job])


@POLICIES.register("srtf")
class SrtfPolicy(SjfPolicy):
    """Shortest remaining time first: a waiting job preempts a running one with more left."""

    preemptive = True
    keys_move = True

    def key(self, job: int) -> Key:
        return (self.remaining_s(job), job)

    def running_remaining_s(self, job: int, now: float) -> float:
        """Estimated work left of a running job (reference seconds; its run so far counts in full)."""
        progress = self.context.progress
        started = progress.segment_start[job]
        ran = 0.0 if math.isnan(started) else now - started
        speed = progress.speed[job]
        return max(self.remaining_s(job) - (ran * speed if speed != 1.0 else ran), 0.0)

    def preempts(self, job: int, victim: int, now: float) -> bool:
        return self.remaining_s(job) < self.running_remaining_s(victim, now)

    def victim_rank(self, victim: int, now: float) -> float:
        return self.running_remaining_s(victim, now)

    def sort_value(self, job: int, now: float, running: bool) -> tuple[float, ...]:
        return (self.running_remaining_s(job, now) if running else self.remaining_s(job),)
