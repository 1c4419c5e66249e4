"""How far each job has got: checkpointed work, service attained, restarts and their cost.

A job needs `work_s` seconds of running to finish (its duration; cut at its time limit
when limits cap work). Each run segment starts with a restart overhead (except the
first), then works in cycles: `checkpoint_s` of work, then `write_s` writing a
checkpoint (no checkpoint after the last piece of work). When a job is stopped before
its end (preemption, failure) it keeps the work up to its last completed checkpoint and
loses the rest. When limits cap wall-clock time, `limit_s` is the time a job may hold
its GPUs over all its runs: a run that reaches it stops there, and the job keeps its
checkpointed work and loses the rest, as at a preemption.

Accounting identity, per job: time holding GPUs = productive work kept + work lost +
restart overhead + checkpoint writes.

What the scheduler expects a start to take (`expected_run_s`, for backfill plans) is the
job's estimate of work left, plus, with `rate_per_s` (its gang's interruptions per
second), the expected cost of failures by the exact renewal formula
(`gpufleet.failures.ettr`), never more than its limit allows.

Free preemption (`free_preemption`): a job stopped by a preemption keeps all its work
and restarts without overhead (failures still cost). Its work is then counted exactly
(as a fraction of the float times), so any number of preemptions adds no rounding: the
last segment runs exactly what is left, rounded once.

Speed (`set_speeds`): work is measured in seconds on a reference GPU type; a segment on a
pool where the job's class runs `speed` times as fast does `speed` seconds of work per
second. Checkpoint cycles, overhead and writes are wall time. Without speeds every speed
is 1 and the arithmetic is exactly that of a fleet of one speed.
"""

from __future__ import annotations

import math
from fractions import Fraction

from gpufleet.failures.ettr import expected_time


class JobProgress:
    """Per-job progress, shared by the scheduler (estimates, policies) and the simulation."""

    def __init__(self, work_s: list[float], estimate_s: list[float], gpus: list[int],
                 checkpoint_s: list[float], restart_overhead_s: float, write_s: float = 0.0,
                 free_preemption: bool = False, limit_s: list[float] | None = None,
                 rate_per_s: list[float] | None = None) -> None:
        n = len(work_s)
        self.limit_s = limit_s if limit_s is not None else [math.inf] * n
        self.rate_per_s = rate_per_s
        self.at_limit = [False] * n  # the current run ends at the limit, not with the work done
        self.limit_lost_s = [0.0] * n  # work lost when the limit stopped the job
        self.work_s = work_s
        self.estimate_s = estimate_s
        self.gpus = gpus
        self.checkpoint_s = checkpoint_s
        self.restart_overhead_s = restart_overhead_s
        self.write_s = write_s
        self.done_s = [0.0] * n
        self.attained_gpu_s = [0.0] * n
        self.starts = [0] * n
        self.preemptions = [0] * n
        self.interruptions = [0] * n
        self.lost_s = [0.0] * n
        self.overhead_s = [0.0] * n
        self.failure_lost_s = [0.0] * n  # the part of lost_s and overhead_s due to failures
        self.failure_overhead_s = [0.0] * n
        self._restarting_after_failure = [False] * n
        self.writing_s = [0.0] * n
        self.held_s = [0.0] * n
        self.segment_start = [math.nan] * n
        self.last_stop_s = [math.nan] * n
        self.last_run_s = [0.0] * n
        self.free_preemption = free_preemption
        self._resume_free = [False] * n  # stopped by a free preemption: the next start has no overhead
        self._done_exact: dict[int, Fraction] = {}  # exact work of jobs freely preempted
        self._overhead = [0.0] * n  # restart overhead of the current (or last) segment
        self.speed = [1.0] * n  # work per second of the current (or last) segment
        self.varied_speed = False
        self.class_of: list[int] = []
        self._pool_speed: list[list[float]] = []
        self.class_names: list[str] = []
        self.productive_s: list[float] = []  # wall seconds of kept work (kept only with speeds)

    def set_speeds(self, class_of: list[int], pool_speed: list[list[float]], names: list[str]) -> None:
        """Per job its class, per class the speed on each pool (1.0: the reference type) and its name."""
        self.class_of = class_of
        self._pool_speed = pool_speed
        self.class_names = names
        self.varied_speed = True
        self.productive_s = [0.0] * len(self.work_s)

    def speed_on(self, job: int, pool: int) -> float:
        """How fast `job` works on `pool`, relative to the reference type."""
        return self._pool_speed[self.class_of[job]][pool] if self.varied_speed else 1.0

    def overhead_before_start(self, job: int) -> float:
        return self.restart_overhead_s if self.starts[job] and not self._resume_free[job] else 0.0

    def _left(self, job: int) -> float:
        """Work left, in reference seconds."""
        exact = self._done_exact.get(job)
        if exact is not None:
            return float(Fraction(self.work_s[job]) - exact)
        return self.work_s[job] - self.done_s[job]

    def _time_for(self, job: int, work: float) -> float:
        """Running time to do `work` more seconds of work, checkpoint writes included."""
        if work <= 0:
            return 0.0
        return work + self.write_s * (math.ceil(work / self.checkpoint_s[job]) - 1)

    def start(self, job: int, now: float, pool: int = 0) -> float:
        """The job (re)starts at `now` on `pool`; return how long it will run if nothing stops
        it (until its work is done, or until its wall-clock limit)."""
        overhead = self.overhead_before_start(job)
        self._overhead[job] = overhead
        self._resume_free[job] = False
        self.starts[job] += 1
        self.segment_start[job] = now
        if self.varied_speed:
            speed = self.speed[job] = self.speed_on(job, pool)
            run = overhead + self._time_for(job, self._left(job) / speed)
        else:
            run = overhead + self._time_for(job, self._left(job))
        budget = self.limit_s[job] - self.held_s[job]
        self.at_limit[job] = run > budget
        return min(run, max(budget, 0.0))

    def expected_run_s(self, job: int, speed: float = 1.0) -> float:
        """What the scheduler expects a start now to take (at `speed`): overhead plus estimated
        work left (with the expected cost of failures, when planned for), within the limit."""
        left = max(self.estimate_s[job] - self.done_s[job], 0.0)
        if speed != 1.0:
            left /= speed
        rate = self.rate_per_s[job] if self.rate_per_s is not None else 0.0
        if rate > 0:
            planned = expected_time(left, self.checkpoint_s[job], self.write_s, self.restart_overhead_s, rate,
                                    restarting=self.overhead_before_start(job) > 0)
        else:
            planned = self.overhead_before_start(job) + self._time_for(job, left)
        return min(planned, max(self.limit_s[job] - self.held_s[job], 0.0))

    def work_now(self, job: int, now: float) -> float:
        """Work done (reference seconds) by a job, counting the work of a run in progress."""
        if math.isnan(self.segment_start[job]):
            return self.done_s[job]
        return self.done_s[job] + self.running_productive_s(job, now) * self.speed[job]

    def attained_now(self, job: int, now: float) -> float:
        """GPU-seconds of service the job has had, including a run in progress."""
        running = now - self.segment_start[job] if not math.isnan(self.segment_start[job]) else 0.0
        return self.attained_gpu_s[job] + running * self.gpus[job]

    def stop(self, job: int, now: float, finished: bool, failure: bool = False) -> None:
        """The run segment ends at `now`: by finishing, or stopped early (preempted, or by a failure)."""
        ran = now - self.segment_start[job]
        overhead = min(ran, self._overhead[job])
        working = ran - overhead
        speed = self.speed[job]
        limited = finished and self.at_limit[job]
        if limited:  # stopped at its limit: it keeps its checkpoints, as at a preemption
            finished = False
            self.at_limit[job] = False
        if finished:
            work = self._left(job)
            if speed != 1.0:
                work /= speed
            if self.varied_speed:
                self.productive_s[job] += work
            self.done_s[job] = self.work_s[job]
            self._done_exact.pop(job, None)
            writes = working - work
        else:
            cycle = self.checkpoint_s[job] + self.write_s
            cycles = math.floor(working / cycle)
            into = working - cycles * cycle
            writes = cycles * self.write_s + max(into - self.checkpoint_s[job], 0.0)
            if self.free_preemption and not failure and not limited:
                lost = 0.0
                if self.write_s == 0.0:
                    writes = 0.0  # no cycle rounding: every second worked is kept
                exact = (Fraction(now) - Fraction(self.segment_start[job]) - Fraction(overhead) - Fraction(writes))
                kept = float(exact)
                done = self._done_exact.get(job, Fraction(self.done_s[job])) + exact * Fraction(speed)
                self._done_exact[job] = done
                self.done_s[job] = float(done)
                self._resume_free[job] = True
            else:
                kept = cycles * self.checkpoint_s[job]
                lost = min(into, self.checkpoint_s[job])
                if job in self._done_exact:
                    self._done_exact[job] += Fraction(kept) * Fraction(speed)
                    self.done_s[job] = float(self._done_exact[job])
                else:
                    self.done_s[job] += kept * speed if speed != 1.0 else kept
            if self.varied_speed:
                self.productive_s[job] += kept
            self.lost_s[job] += lost
            if limited:
                self.limit_lost_s[job] += lost
            elif failure:
                self.interruptions[job] += 1
                self.failure_lost_s[job] += lost
            else:
                self.preemptions[job] += 1
        self.writing_s[job] += writes
        self.overhead_s[job] += overhead
        if self._restarting_after_failure[job]:
            self.failure_overhead_s[job] += overhead
        self._restarting_after_failure[job] = failure
        self.attained_gpu_s[job] += ran * self.gpus[job]
        self.held_s[job] += ran
        self.last_run_s[job] = ran
        self.last_stop_s[job] = now
        self.segment_start[job] = math.nan

    def productive_base_s(self) -> list[float]:
        """Per job, wall seconds of kept work in finished and stopped segments."""
        return self.productive_s if self.varied_speed else self.done_s

    def running_productive_s(self, job: int, until: float) -> float:
        """Wall seconds of work of the segment running since `segment_start` up to `until`."""
        working = max(until - self.segment_start[job] - self._overhead[job], 0.0)
        cycle = self.checkpoint_s[job] + self.write_s
        cycles = working // cycle
        return working - cycles * self.write_s - max(working - cycles * cycle - self.checkpoint_s[job], 0.0)
