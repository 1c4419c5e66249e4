"""las: Tiresias' discretised two-dimensional least attained service (NSDI 2019).

A job's attained service is GPUs x time it has run. Jobs sit in K queues by attained
service (thresholds in GPU-hours, `thresholds_gpu_hours`, or in GPU-seconds as the papers
give them, `thresholds_gpu_seconds`); a lower queue runs first, FIFO within a queue. A
waiting job in a lower queue preempts a running job in a higher one. Starvation guard:
a job that has waited `starvation_factor` times as long as it last ran is promoted to
the first queue (Tiresias' STARVELIMIT): its service is counted afresh from then on.
`starvation_factor: null` (or `off`) turns the guard off.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from pydantic import PositiveFloat, field_validator, model_validator

from gpufleet.sched.policies.base import POLICIES, Key, Policy, PolicyContext, PolicyOptions


class LasOptions(PolicyOptions):
    thresholds_gpu_hours: list[PositiveFloat] | None = None
    """Queue boundaries in attained GPU-hours (K - 1 of them for K queues); default [10, 1000]."""
    thresholds_gpu_seconds: list[PositiveFloat] | None = None
    """The same boundaries in GPU-seconds (give one of the two)."""
    starvation_factor: PositiveFloat | None = 2.0
    """Promote a waiting job to the first queue once it has waited this many times its last
    run; null (or off) turns the guard off."""

    @field_validator("starvation_factor", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        if value is False:  # YAML reads a bare `off` as false
            return None
        return None if isinstance(value, str) and value.strip().lower() in ("off", "none", "null") else value

    @model_validator(mode="after")
    def _one_unit(self) -> LasOptions:
        if self.thresholds_gpu_hours is not None and self.thresholds_gpu_seconds is not None:
            raise ValueError("give thresholds_gpu_hours or thresholds_gpu_seconds, not both")
        return self

    @property
    def thresholds_s(self) -> list[float]:
        """Queue boundaries in GPU-seconds, ascending."""
        if self.thresholds_gpu_seconds is not None:
            return sorted(self.thresholds_gpu_seconds)
        hours = self.thresholds_gpu_hours if self.thresholds_gpu_hours is not None else [10.0, 1000.0]
        return [value * 3600.0 for value in sorted(hours)]


@POLICIES.register("las", aliases=("tiresias",))
class LasPolicy(Policy):
    """Discretised 2D-LAS with starvation guard; preemptive."""

    Options = LasOptions
    options: LasOptions
    preemptive = True
    keys_move = True

    def __init__(self, context: PolicyContext) -> None:
        super().__init__(context)
        self.thresholds_gpu_s = self.options.thresholds_s
        self.baseline: dict[int, float] = {}  # service already counted when a job was promoted
        self.reached: dict[int, int] = {}  # queue a demotion timer moved a job to (immune to rounding)
        self.armed: dict[int, int] = {}  # queue a running job was in when its demotion timer was set

    def level(self, job: int, attained_gpu_s: float) -> int:
        measured = bisect.bisect_right(self.thresholds_gpu_s, attained_gpu_s - self.baseline.get(job, 0.0))
        return max(measured, self.reached.get(job, 0))

    def waiting_level(self, job: int) -> int:
        return self.level(job, self.context.progress.attained_gpu_s[job])

    def key(self, job: int) -> Key:
        return (self.waiting_level(job), job)

    def preempts(self, job: int, victim: int, now: float) -> bool:
        return self.waiting_level(job) < self.level(victim, self.context.progress.attained_now(victim, now))

    def victim_rank(self, victim: int, now: float) -> float:
        return self.context.progress.attained_now(victim, now)

    def sort_value(self, job: int, now: float, running: bool) -> tuple[float, ...]:
        if running:
            return (self.level(job, self.context.progress.attained_now(job, now)),)
        return (self.waiting_level(job),)

    def next_change(self, job: int, now: float, running: bool) -> float | None:
        progress = self.context.progress
        if running:  # demotion: when attained service crosses the next threshold
            attained = progress.attained_now(job, now)
            level = self.level(job, attained)
            if level == len(self.thresholds_gpu_s):
                return None
            self.armed[job] = level
            target = self.thresholds_gpu_s[level] + self.baseline.get(job, 0.0)
            return now + max(target - attained, 0.0) / progress.gpus[job]
        factor = self.options.starvation_factor
        if factor is None or math.isnan(progress.last_stop_s[job]) or self.waiting_level(job) == 0:
            return None
        return progress.last_stop_s[job] + factor * progress.last_run_s[job]

    def on_timer(self, job: int, now: float, running: bool) -> None:
        """A demotion (running) or promotion (waiting) is due."""
        if running:
            self.reached[job] = max(self.reached.get(job, 0), self.armed[job] + 1)
            return
        self.baseline[job] = self.context.progress.attained_gpu_s[job]
        self.reached.pop(job, None)
