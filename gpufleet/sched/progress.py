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
"""

from __future__ import annotations

import math

from gpufleet.failures.ettr import expected_time


class JobProgress:
    """Per-job progress, shared by the scheduler (estimates, policies) and the simulation."""

    def __init__(self, work_s: list[float], estimate_s: list[float], gpus: list[int],
                 checkpoint_s: list[float], restart_overhead_s: float, write_s: float = 0.0,
                 limit_s: list[float] | None = None, rate_per_s: list[float] | None = None) -> None:
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

    def overhead_before_start(self, job: int) -> float:
        return self.restart_overhead_s if self.starts[job] else 0.0

    def _time_for(self, job: int, work: float) -> float:
        """Running time to do `work` more seconds of work, checkpoint writes included."""
        if work <= 0:
            return 0.0
        return work + self.write_s * (math.ceil(work / self.checkpoint_s[job]) - 1)

    def start(self, job: int, now: float) -> float:
        """The job (re)starts at `now`; return how long it will run if nothing stops it
        (until its work is done, or until its wall-clock limit)."""
        overhead = self.overhead_before_start(job)
        self.starts[job] += 1
        self.segment_start[job] = now
        run = overhead + self._time_for(job, self.work_s[job] - self.done_s[job])
        budget = self.limit_s[job] - self.held_s[job]
        self.at_limit[job] = run > budget
        return min(run, max(budget, 0.0))

    def expected_run_s(self, job: int) -> float:
        """What the scheduler expects a start now to take: overhead plus estimated work left
        (with the expected cost of failures, when planned for), within the limit."""
        left = max(self.estimate_s[job] - self.done_s[job], 0.0)
        rate = self.rate_per_s[job] if self.rate_per_s is not None else 0.0
        if rate > 0:
            planned = expected_time(left, self.checkpoint_s[job], self.write_s, self.restart_overhead_s, rate,
                                    restarting=self.starts[job] > 0)
        else:
            planned = self.overhead_before_start(job) + self._time_for(job, left)
        return min(planned, max(self.limit_s[job] - self.held_s[job], 0.0))

    def attained_now(self, job: int, now: float) -> float:
        """GPU-seconds of service the job has had, including a run in progress."""
        running = now - self.segment_start[job] if not math.isnan(self.segment_start[job]) else 0.0
        return self.attained_gpu_s[job] + running * self.gpus[job]

    def stop(self, job: int, now: float, finished: bool, failure: bool = False) -> None:
        """The run segment ends at `now`: by finishing, or stopped early (preempted, or by a failure)."""
        ran = now - self.segment_start[job]
        overhead = min(ran, self.restart_overhead_s if self.starts[job] > 1 else 0.0)
        working = ran - overhead
        limited = finished and self.at_limit[job]
        if limited:  # stopped at its limit: it keeps its checkpoints, as at a preemption
            finished = False
            self.at_limit[job] = False
        if finished:
            work = self.work_s[job] - self.done_s[job]
            self.done_s[job] = self.work_s[job]
            writes = working - work
        else:
            cycle = self.checkpoint_s[job] + self.write_s
            cycles = math.floor(working / cycle)
            into = working - cycles * cycle
            kept = cycles * self.checkpoint_s[job]
            lost = min(into, self.checkpoint_s[job])
            writes = cycles * self.write_s + max(into - self.checkpoint_s[job], 0.0)
            self.done_s[job] += kept
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
