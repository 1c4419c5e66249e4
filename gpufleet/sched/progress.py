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
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from gpufleet.failures.ettr import expected_time

PerJob = Sequence[float] | np.ndarray
"""Per-job values as a list or an array."""
_INPUTS = ("work_s", "estimate_s", "gpus", "checkpoint_s", "limit_s")
_FILLED: dict[str, float | int | bool] = {
    "at_limit": False,  # the current run ends at the limit, not with the work done
    "limit_lost_s": 0.0,  # work lost when the limit stopped the job
    "done_s": 0.0, "attained_gpu_s": 0.0, "starts": 0, "preemptions": 0, "interruptions": 0, "lost_s": 0.0,
    "overhead_s": 0.0,
    "failure_lost_s": 0.0, "failure_overhead_s": 0.0,  # the part of lost_s and overhead_s due to failures
    "_restarting_after_failure": False, "writing_s": 0.0, "held_s": 0.0, "segment_start": math.nan,
    "last_stop_s": math.nan, "last_run_s": 0.0,
    "_resume_free": False,  # stopped by a free preemption: the next start has no overhead
    "_overhead": 0.0,  # restart overhead of the current (or last) segment
    "speed": 1.0,  # work per second of the current (or last) segment
}
_PER_JOB = frozenset(_INPUTS) | frozenset(_FILLED)


class JobProgress:
    """Per-job progress, shared by the scheduler (estimates, policies) and the simulation.

    The per-job state is Python lists (they index fastest in the Python engine's loop), made
    the first time anything reads one: a run on the native core reads only the inputs, as
    arrays (`column`), and so never holds a Python object per job (docs/performance.md)."""

    def __init__(self, work_s: PerJob, estimate_s: PerJob, gpus: Sequence[int] | np.ndarray,
                 checkpoint_s: PerJob, restart_overhead_s: float, write_s: float = 0.0,
                 free_preemption: bool = False, limit_s: PerJob | None = None,
                 rate_per_s: list[float] | None = None) -> None:
        self.n = len(work_s)
        self._inputs: dict[str, PerJob] | None = {
            "work_s": work_s, "estimate_s": estimate_s, "gpus": gpus, "checkpoint_s": checkpoint_s,
            "limit_s": limit_s if limit_s is not None else np.full(self.n, math.inf)}
        self.rate_per_s = rate_per_s
        self.restart_overhead_s = restart_overhead_s
        self.write_s = write_s
        self.free_preemption = free_preemption
        self._done_exact: dict[int, Fraction] = {}  # exact work of jobs freely preempted
        self.varied_speed = False
        self.class_of: list[int] = []
        self._pool_speed: list[list[float]] = []
        self.class_names: list[str] = []
        self.productive_s: list[float] = []  # wall seconds of kept work (kept only with speeds)

    if TYPE_CHECKING:  # made on first read (`__getattr__`); declared for the type checker
        work_s: list[float]
        estimate_s: list[float]
        gpus: list[int]
        checkpoint_s: list[float]
        limit_s: list[float]
        at_limit: list[bool]
        limit_lost_s: list[float]
        done_s: list[float]
        attained_gpu_s: list[float]
        starts: list[int]
        preemptions: list[int]
        interruptions: list[int]
        lost_s: list[float]
        overhead_s: list[float]
        failure_lost_s: list[float]
        failure_overhead_s: list[float]
        _restarting_after_failure: list[bool]
        writing_s: list[float]
        held_s: list[float]
        segment_start: list[float]
        last_stop_s: list[float]
        last_run_s: list[float]
        _resume_free: list[bool]
        _overhead: list[float]
        speed: list[float]
    else:
        def __getattr__(self, name: str) -> Any:
            """The per-job lists, made on first read (only attributes not set yet come here)."""
            if name in _PER_JOB and self.__dict__.get("_inputs") is not None:
                self._make_lists()
                return self.__dict__[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _make_lists(self) -> None:
        inputs, self._inputs = self._inputs, None
        assert inputs is not None
        for name, values in inputs.items():
            setattr(self, name, values.tolist() if isinstance(values, np.ndarray)
                    else values if isinstance(values, list) else list(values))
        for name, value in _FILLED.items():
            setattr(self, name, [value] * self.n)

    def column(self, name: str) -> np.ndarray:
        """An input (work_s, estimate_s, gpus, checkpoint_s, limit_s) as an array, without making
        the per-job lists."""
        if name not in _INPUTS:
            raise KeyError(name)
        values = self._inputs[name] if self._inputs is not None else self.__dict__[name]
        return np.asarray(values)

    def set_speeds(self, class_of: list[int], pool_speed: list[list[float]], names: list[str]) -> None:
        """Per job its class, per class the speed on each pool (1.0: the reference type) and its name."""
        self.class_of = class_of
        self._pool_speed = pool_speed
        self.class_names = names
        self.varied_speed = True
        self.productive_s = [0.0] * self.n

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
