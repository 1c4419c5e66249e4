"""The processes of a run: capacity changes, job arrivals, job ends, policy timers,
scheduling passes and hourly samples.

Events at one instant run in the order `sim.events` sets: capacity first, then job ends,
failures and repairs, arrivals, timers and serving decisions, then one scheduling pass,
then the hourly sample, so a pass sees everything that happened at that instant. The run
records each job's run segments and each capacity change; `results.timeseries`
integrates them exactly afterwards. Only what cannot be rebuilt afterwards (free GPUs
unusable by the smallest waiting gang) is sampled.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from gpufleet.failures.process import FailureProcess, Strike
from gpufleet.fleet.layout import FleetLayout, PoolCapacity
from gpufleet.fleet.state import FleetState
from gpufleet.sched import reasons
from gpufleet.sched.core import PassResult, SchedulerCore, Step
from gpufleet.sched.headroom import ShapeInPools, headroom
from gpufleet.sim.engine import Engine
from gpufleet.sim.events import PHASE, Event
from gpufleet.sim.outages import FailureRecord, Outages
from gpufleet.sim.serving import ServiceRecord, ServingFleet
from gpufleet.workload.jobs import JobTable

CAPACITY, JOB_END, ARRIVAL, TIMER, ROUND, SCHEDULE, SAMPLE = (
    int(PHASE[event]) for event in (Event.CAPACITY, Event.JOB_END, Event.ARRIVAL, Event.TIMER, Event.ROUND,
                               Event.SCHEDULE, Event.SAMPLE))

ProgressFn = Callable[[float, int, int], None]
"""on_progress(simulated seconds, jobs finished, events processed)."""


class Status(StrEnum):
    """Final state of a job at the end of the run (the `status` column of jobs.parquet)."""

    COMPLETED = "completed"
    TIME_LIMIT = "time_limit"
    RUNNING = "running"
    QUEUED = "queued"
    NEVER_FITS = "never_fits"
    NOT_SUBMITTED = "not_submitted"
    FAILED = "failed"  # stopped for good after more interruptions than checkpointing.max_restarts


@dataclass
class RunRecord:
    """What happened to every job and to capacity; the raw material of the results.

    Attributes:
        start_s, end_s: first start and final end per job (NaN if none yet).
        segments: (job, pool, start_s, end_s) of every run segment, as arrays.
        samples: hourly samples: time_s, free GPUs, GPUs unusable by the smallest waiting
            gang, and (`sched.headroom`) startable and stranded GPUs and allocated /
            (allocated + startable).
    """

    start_s: np.ndarray
    end_s: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    history: Mapping[int, list[tuple[float, str]]]
    reserved_s: np.ndarray
    pool: np.ndarray
    racks: np.ndarray
    blocks: np.ndarray
    queue: np.ndarray
    queue_names: list[str]
    priority: np.ndarray
    preemptions: np.ndarray
    interruptions: np.ndarray
    productive_gpu_s: np.ndarray
    lost_gpu_s: np.ndarray
    overhead_gpu_s: np.ndarray
    failure_lost_gpu_s: np.ndarray
    failure_overhead_gpu_s: np.ndarray
    limit_lost_gpu_s: np.ndarray
    checkpoint_gpu_s: np.ndarray
    failures: list[FailureRecord]
    failed_log: list[tuple[float, int, int]]
    segments: dict[str, np.ndarray]
    samples: dict[str, np.ndarray]
    capacity_log: list[tuple[float, int, int]]
    end_of_run_s: float
    events: int
    services: list[ServiceRecord]
    job_class: np.ndarray | None = None
    """Per job, its throughput class (with a throughput matrix; else None)."""
    speed: np.ndarray | None = None
    """Per job, reference seconds of work per second of productive work so far (NaN before any)."""
    coded: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    """String columns also held as (codes, labels), labels[codes[job]] being the job's value:
    "status" and "reason" as the native core returns them, so the results layer reads codes
    rather than an object array (empty from the Python engine)."""


_PER_JOB = frozenset({"_submit", "_hits_limit", "_start", "_end", "_status", "_pool", "_racks", "_blocks", "_epoch"})


class Simulation:
    """One run of a built scenario, up to `until_s` simulated seconds."""

    def __init__(self, layout: FleetLayout, jobs: JobTable, state: FleetState, scheduler: SchedulerCore,
                 until_s: float, sample_times: np.ndarray | None = None,
                 failure_processes: list[FailureProcess] | None = None,
                 injected_failures: list[tuple[float, Strike, float, str]] | None = None) -> None:
        self.layout = layout
        self.jobs = jobs
        self.state = state
        self.scheduler = scheduler
        self.progress = scheduler.progress
        self.until_s = until_s
        self.engine = Engine()
        # Limits that cap work cut a job's work short of its duration; wall-clock limits
        # stop a run in progress, which the progress tracker reports at the job's end.
        self.hits_limit_mask: np.ndarray = self.progress.column("work_s") < jobs.duration_s
        # The per-job lists of the Python engine's loop are made when it first reads one
        # (`__getattr__`): a run on the native core never makes them.
        self._segments: list[tuple[int, int, float, float]] = []
        self._running: dict[int, tuple[float, int]] = {}  # job -> (segment start, pool)
        self._samples: list[tuple[float, int, int, int, int, float]] = []
        self._shapes: list[ShapeInPools] = [(gpus, group, within, layout.pools_for(flavors))
                                            for gpus, group, within, flavors in jobs.shapes]
        self.standing_shapes: list[ShapeInPools] = []  # serving replicas' shapes (set by sim.build)
        self._sample_times = sample_times if sample_times is not None else np.zeros(0)
        self._pass_requested = False
        self._finished = 0
        self.never_fits = self._find_never_fits()
        self.outages = Outages(self, failure_processes or [], injected_failures) \
            if failure_processes or injected_failures else None
        if self.outages is not None and not state.track_nodes:
            raise ValueError("failures strike nodes: the fleet state must track them (FleetState(track_nodes=True))")
        self.serving: ServingFleet | None = None  # set by sim.build when the scenario has services

    if TYPE_CHECKING:  # made on first read (`__getattr__`); declared for the type checker
        _submit: list[float]
        _hits_limit: list[bool]
        _start: list[float]
        _end: list[float]
        _status: list[Status]
        _pool: list[int]
        _racks: list[int]
        _blocks: list[int]
        _epoch: list[int]  # bumped whenever a job starts or stops: stale events are ignored
    else:
        def __getattr__(self, name: str) -> Any:
            """The per-job lists of the Python engine, made on first read."""
            if name in _PER_JOB and "jobs" in self.__dict__:
                self._make_lists()
                return self.__dict__[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _make_lists(self) -> None:
        n = len(self.jobs)
        self._submit = self.jobs.submit_s.tolist()
        self._hits_limit = self.hits_limit_mask.tolist()
        self._start = [math.nan] * n
        self._end = [math.nan] * n
        self._status = [Status.NOT_SUBMITTED] * n
        self._pool = [-1] * n
        self._racks = [0] * n
        self._blocks = [0] * n
        self._epoch = [0] * n

    def run(self, on_progress: ProgressFn | None = None, progress_every: int = 50_000) -> RunRecord:
        """Simulate to the horizon and return what happened; `on_progress` is called every
        `progress_every` events (`self.progress` is the jobs' progress, `sched.progress.JobProgress`)."""
        engine = self.engine
        for change in self.layout.changes:
            if change.time_s <= self.until_s:
                engine.at(max(change.time_s, 0.0), CAPACITY, self._on_capacity, change)
        if len(self.jobs) and self._submit[0] <= self.until_s:
            engine.at(self._submit[0], ARRIVAL, self._on_arrival, 0)
        if len(self._sample_times):
            engine.at(float(self._sample_times[0]), SAMPLE, self._on_sample, 0)
        if self.scheduler.policy.round_s is not None:
            engine.at(0.0, ROUND, self._on_round, 0)
        if self.outages is not None:
            self.outages.start()
        if self.serving is not None:
            self.serving.start()
        report = None
        if on_progress is not None:
            callback = on_progress

            def report(now: float, events: int) -> None:
                callback(now, self._finished, events)
        engine.run(self.until_s, report, progress_every)
        if on_progress is not None:
            on_progress(self.until_s, self._finished, engine.events)
        return self._record()

    @property
    def hits_limit(self) -> list[bool]:
        """Per job, whether its time limit stops it before its work is done; do not change it."""
        return self._hits_limit

    @property
    def sample_times(self) -> np.ndarray:
        """The times (s) of the hourly samples."""
        return self._sample_times

    @property
    def first_start_s(self) -> list[float]:
        """Per job, its first start so far (NaN before any); do not change the list."""
        return self._start

    # -- handlers ---------------------------------------------------------------------

    def _on_capacity(self, change: PoolCapacity) -> None:
        now = self.engine.now
        if change.retire:
            if self.serving is not None:
                self.serving.evict(change.rack_lo, change.rack_hi)
            self.state.retire(change.pool, change.rack_lo, change.rack_hi, now)
            self.scheduler.capacity_lost()
        else:
            self.state.deliver(change.pool, change.rack_lo, change.rack_hi, now)
            self.scheduler.capacity_added()
        if self.outages is not None:
            self.outages.on_capacity(change)
        self.request_pass()

    def _on_arrival(self, job: int) -> None:
        following = job + 1
        if following < len(self._submit) and self._submit[following] <= self.until_s:
            self.engine.at(self._submit[following], ARRIVAL, self._on_arrival, following)
        if job in self.never_fits:
            self._status[job] = Status.NEVER_FITS
            return
        self._status[job] = Status.QUEUED
        self.scheduler.submit(job)
        self.request_pass()

    def _on_job_end(self, payload: tuple[int, int]) -> None:
        job, epoch = payload
        if epoch != self._epoch[job]:
            return  # it was preempted before this end
        now = self.engine.now
        limited = self.progress.at_limit[job] or self._hits_limit[job]
        self.scheduler.end(job, now)
        self._close_segment(job, now)
        self._end[job] = now
        self._status[job] = Status.TIME_LIMIT if limited else Status.COMPLETED
        self._finished += 1
        if self.scheduler.has_waiting():
            self.request_pass()

    def _on_timer(self, payload: tuple[int, int]) -> None:
        job, epoch = payload
        if epoch != self._epoch[job]:
            return
        running = job in self._running
        self.scheduler.policy.on_timer(job, self.engine.now, running)
        self.scheduler.rerank(job)
        self._arm_timer(job, running)
        self.request_pass()

    def _on_schedule(self, _: None) -> None:
        self._pass_requested = False
        now = self.engine.now
        result: PassResult = self.scheduler.schedule(now)
        for kind, job, allocation, run_s in result.events:
            if kind is Step.PREEMPT:
                self._requeued(job, now)
                continue
            assert allocation is not None
            if math.isnan(self._start[job]):
                self._start[job] = now
                self._pool[job] = allocation.pool
                self._racks[job] = len(allocation.racks)
                self._blocks[job] = self.layout.blocks_spanned(allocation.racks)
            self._status[job] = Status.RUNNING
            self._epoch[job] += 1
            self._running[job] = (now, allocation.pool)
            self.engine.at(now + run_s, JOB_END, self._on_job_end, (job, self._epoch[job]))
            self._arm_timer(job, running=True)

    def _on_round(self, index: int) -> None:
        """A round of a round-based policy starts (rounds start at multiples of its length)."""
        self.scheduler.start_round()
        self.request_pass()
        round_s = self.scheduler.policy.round_s
        assert round_s is not None
        following = (index + 1) * round_s
        if following <= self.until_s:
            self.engine.at(following, ROUND, self._on_round, index + 1)

    def _on_sample(self, index: int) -> None:
        now = self.engine.now
        scheduler = self.scheduler
        waiting = [self._shapes[shape] for shape in sorted(scheduler.shapes_waiting())]
        present = [self._shapes[shape] for shape in sorted(scheduler.shapes_waiting() | scheduler.shapes_running())]
        room = headroom(self.state.avail, sum(self.state.allocated_gpus), self.layout, waiting,
                        present + self.standing_shapes, scheduler.reserved_extra())
        self._samples.append((now, room.free, scheduler.unusable_gpus(), room.startable, room.stranded,
                              room.startable_utilisation))
        if index + 1 < len(self._sample_times):
            self.engine.at(float(self._sample_times[index + 1]), SAMPLE, self._on_sample, index + 1)

    def request_pass(self) -> None:
        """Run a scheduling pass once everything at this instant has happened."""
        if self._pass_requested:
            return
        if self.engine.pending_at(self.engine.now):
            self._pass_requested = True
            self.engine.at(self.engine.now, SCHEDULE, self._on_schedule)
        else:
            self._on_schedule(None)

    def preempt(self, job: int, reason: str) -> None:
        """Stop running `job` for a serving replica (which takes its GPUs at once, telling
        the scheduler where): it goes back to the queue."""
        now = self.engine.now
        self.scheduler.preempt(job, now, reason, replan=False)
        self._requeued(job, now)

    def _requeued(self, job: int, now: float) -> None:
        self._close_segment(job, now)
        self._status[job] = Status.QUEUED
        self._arm_timer(job, running=False)

    # -- failures (called by Outages) -----------------------------------------------

    def interrupt(self, job: int, cause: str) -> None:
        """A failure stopped `job`: it goes back to the queue (or fails for good)."""
        now = self.engine.now
        requeued = self.scheduler.interrupt(job, now, cause)
        self._close_segment(job, now)
        if requeued:
            self._status[job] = Status.QUEUED
            self._arm_timer(job, running=False)
        else:
            self._status[job] = Status.FAILED
            self._end[job] = now

    def restart_in_place(self, job: int, node: int, spare: int, cause: str) -> None:
        """A failed node of `job` was swapped for a hot spare: it restarts where it is."""
        now = self.engine.now
        pool = self._running[job][1]
        run_s = self.scheduler.restart_in_place(job, now, node, spare, cause)
        self._close_segment(job, now)
        if run_s is None:
            self._status[job] = Status.FAILED
            self._end[job] = now
            return
        self._epoch[job] += 1
        self._running[job] = (now, pool)
        self.engine.at(now + run_s, JOB_END, self._on_job_end, (job, self._epoch[job]))
        self._arm_timer(job, running=True)

    # -- helpers ----------------------------------------------------------------------

    def _arm_timer(self, job: int, running: bool) -> None:
        when = self.scheduler.policy.next_change(job, self.engine.now, running)
        if when is not None and when <= self.until_s:
            self.engine.at(max(when, self.engine.now), TIMER, self._on_timer, (job, self._epoch[job]))

    def _close_segment(self, job: int, now: float) -> None:
        self._epoch[job] += 1
        since, pool = self._running.pop(job)
        self._segments.append((job, pool, since, now))

    def _productive_s(self) -> np.ndarray:
        """Work kept per job: checkpointed work, plus for jobs running at the horizon the
        work of their current run (not lost: the run goes on)."""
        progress = self.progress
        productive = np.array(progress.productive_base_s(), dtype=np.float64)
        for job in self._running:
            productive[job] += progress.running_productive_s(job, self.until_s)
        return productive

    def _find_never_fits(self) -> dict[int, str]:
        """Why each job that can never run on the fleet as it will ever be (from its submit time) cannot."""
        jobs, layout = self.jobs, self.layout
        change_times = np.array([change.time_s for change in layout.changes])
        epoch = np.searchsorted(change_times, jobs.submit_s, side="right")
        # One answer per distinct (shape, capacity epoch), not per job: a million jobs have a few hundred.
        key = jobs.shape.astype(np.int64) * (len(change_times) + 1) + epoch
        keys, which = np.unique(key, return_inverse=True)
        which = which.reshape(-1)
        why: list[str] = []  # "" where the shape fits
        for shape, first in zip((keys // (len(change_times) + 1)).tolist(), (keys % (len(change_times) + 1)).tolist(),
                                strict=True):
            gpus, group, within, flavors = jobs.shapes[shape]
            after = float(change_times[first - 1]) if first else 0.0
            reason = layout.why_never_fits(layout.pools_for(flavors), gpus, group, within, after)
            why.append("" if reason is None else f"{reasons.NEVER_FITS}: {reason}")
        never = np.array([bool(reason) for reason in why], dtype=bool)
        jobs_never = np.flatnonzero(never[which])
        return {job: why[index] for job, index in zip(jobs_never.tolist(), which[jobs_never].tolist(), strict=True)}

    def _record(self) -> RunRecord:
        scheduler = self.scheduler
        scheduler.explain_waiting()
        for job, (since, pool) in self._running.items():  # still running at the horizon
            self._segments.append((job, pool, since, self.until_s))
        reason = []
        for job, status in enumerate(self._status):
            if job in self.never_fits:
                reason.append(self.never_fits[job])
            elif status == Status.TIME_LIMIT:
                reason.append(reasons.TIME_LIMIT)
            elif status in (Status.QUEUED, Status.FAILED):
                reason.append(scheduler.reason[job])
            else:
                reason.append("")
        segments = np.fromiter(itertools.chain.from_iterable(self._segments), dtype=np.float64,
                               count=4 * len(self._segments)).reshape(-1, 4)  # np.fromiter: docs/performance.md
        samples = np.array(self._samples, dtype=np.float64).reshape(-1, 6)
        progress = self.progress
        gpus = self.jobs.gpus.astype(np.float64)
        speeds = self._speeds()
        return RunRecord(
            start_s=np.array(self._start, dtype=np.float64),
            end_s=np.array(self._end, dtype=np.float64),
            status=np.array([status.value for status in self._status], dtype=object),
            reason=np.array(reason, dtype=object),
            history=dict(scheduler.history),
            reserved_s=scheduler.reserved_s.copy(),
            pool=np.array(self._pool, dtype=np.int64),
            racks=np.array(self._racks, dtype=np.int64),
            blocks=np.array(self._blocks, dtype=np.int64),
            queue=np.array(scheduler.queue_of, dtype=np.int64),
            queue_names=list(scheduler.quotas.names),
            priority=np.array(scheduler.priority, dtype=np.int64),
            preemptions=np.array(progress.preemptions, dtype=np.int64),
            interruptions=np.array(progress.interruptions, dtype=np.int64),
            productive_gpu_s=self._productive_s() * gpus,
            lost_gpu_s=np.array(progress.lost_s, dtype=np.float64) * gpus,
            overhead_gpu_s=np.array(progress.overhead_s, dtype=np.float64) * gpus,
            failure_lost_gpu_s=np.array(progress.failure_lost_s, dtype=np.float64) * gpus,
            failure_overhead_gpu_s=np.array(progress.failure_overhead_s, dtype=np.float64) * gpus,
            limit_lost_gpu_s=np.array(progress.limit_lost_s, dtype=np.float64) * gpus,
            checkpoint_gpu_s=np.array(progress.writing_s, dtype=np.float64) * gpus,
            failures=list(self.outages.log) if self.outages is not None else [],
            failed_log=list(self.state.failed_log),
            segments={"job": segments[:, 0].astype(np.int64), "pool": segments[:, 1].astype(np.int64),
                      "start_s": segments[:, 2], "end_s": segments[:, 3]},
            samples={"time_s": samples[:, 0], "free_gpus": samples[:, 1], "unusable_gpus": samples[:, 2],
                     "startable_gpus": samples[:, 3], "stranded_gpus": samples[:, 4],
                     "startable_utilisation": samples[:, 5]},
            capacity_log=list(self.state.capacity_log),
            end_of_run_s=self.until_s,
            events=self.engine.events,
            services=self.serving.records() if self.serving is not None else [],
            job_class=speeds.get("job_class"),
            speed=speeds.get("speed"),
        )

    def _speeds(self) -> dict[str, np.ndarray]:
        """The throughput columns of the record (none without a throughput matrix)."""
        progress = self.progress
        if not progress.varied_speed:
            return {}
        names = np.array(progress.class_names, dtype=object)
        work = np.array([progress.work_now(job, self.until_s) for job in range(len(self.jobs))], dtype=np.float64)
        wall = self._productive_s()
        with np.errstate(invalid="ignore", divide="ignore"):
            speed = np.where(wall > 0, work / wall, np.nan)
        return {"job_class": names[np.array(progress.class_of, dtype=np.int64)], "speed": speed}
