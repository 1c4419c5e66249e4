"""The processes of a run: capacity changes, job arrivals, job ends and scheduling passes.

Events at one instant run in priority order: capacity first, then job ends, then
arrivals, and one scheduling pass last, so a pass sees everything that happened at
that instant. Metrics are not sampled during the run: the run records each job's
start and end and each capacity change, and `results.timeseries` integrates them
exactly afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gpufleet.fleet.layout import FleetLayout, PoolCapacity
from gpufleet.fleet.state import FleetState
from gpufleet.sched import reasons
from gpufleet.sched.scheduler import Scheduler
from gpufleet.sim.engine import Engine
from gpufleet.workload.jobs import JobTable

CAPACITY, JOB_END, ARRIVAL, SCHEDULE = 0, 1, 2, 5

ProgressFn = Callable[[float, int, int], None]
"""progress(simulated seconds, jobs finished, events processed)."""


class Status:
    """Final state of a job at the end of the run."""

    COMPLETED = "completed"
    TIME_LIMIT = "time_limit"
    RUNNING = "running"
    QUEUED = "queued"
    NEVER_FITS = "never_fits"
    NOT_SUBMITTED = "not_submitted"


@dataclass
class RunRecord:
    """What happened to every job and to capacity; the raw material of the results."""

    start_s: np.ndarray
    end_s: np.ndarray  # NaN while running at the horizon
    status: np.ndarray  # object array of Status values
    reason: np.ndarray  # object array of str
    reserved_s: np.ndarray
    pool: np.ndarray  # -1 where never started
    racks: np.ndarray
    blocks: np.ndarray
    capacity_log: list[tuple[float, int, int]]
    end_of_run_s: float
    events: int


class Simulation:
    """One run of a built scenario, up to `until_s` simulated seconds."""

    def __init__(self, layout: FleetLayout, jobs: JobTable, state: FleetState,
                 scheduler: Scheduler, until_s: float) -> None:
        self.layout = layout
        self.jobs = jobs
        self.state = state
        self.scheduler = scheduler
        self.until_s = until_s
        self.engine = Engine()
        n = len(jobs)
        self._submit: list[float] = jobs.submit_s.tolist()
        self._run_s: list[float] = jobs.run_s.tolist()
        self._hits_limit: list[bool] = (jobs.duration_s > jobs.time_limit_s).tolist()
        self._start = [math.nan] * n
        self._end = [math.nan] * n
        self._status = [Status.NOT_SUBMITTED] * n
        self._detail = [""] * n
        self._pool = [-1] * n
        self._racks = [0] * n
        self._blocks = [0] * n
        self._pass_requested = False
        self._finished = 0
        self._never_fits = self._find_never_fits()

    def run(self, progress: ProgressFn | None = None) -> RunRecord:
        """Simulate to the horizon and return what happened."""
        engine = self.engine
        for change in self.layout.changes:
            if change.time_s <= self.until_s:
                engine.at(max(change.time_s, 0.0), CAPACITY, self._on_capacity, change)
        if len(self.jobs) and self._submit[0] <= self.until_s:
            engine.at(self._submit[0], ARRIVAL, self._on_arrival, 0)
        on_progress = None
        if progress is not None:
            def on_progress(now: float, events: int) -> None:
                progress(now, self._finished, events)
        engine.run(self.until_s, on_progress)
        if progress is not None:
            progress(self.until_s, self._finished, engine.events)
        return self._record()

    # -- handlers ---------------------------------------------------------------------

    def _on_capacity(self, change: PoolCapacity) -> None:
        now = self.engine.now
        if change.retire:
            self.state.retire(change.pool, change.rack_lo, change.rack_hi, now)
            self.scheduler.capacity_lost()
        else:
            self.state.deliver(change.pool, change.rack_lo, change.rack_hi, now)
            self.scheduler.capacity_added()
        self._request_pass()

    def _on_arrival(self, job: int) -> None:
        following = job + 1
        if following < len(self._submit) and self._submit[following] <= self.until_s:
            self.engine.at(self._submit[following], ARRIVAL, self._on_arrival, following)
        detail = self._never_fits.get(job)
        if detail:
            self._status[job] = Status.NEVER_FITS
            self._detail[job] = detail
            return
        self._status[job] = Status.QUEUED
        self.scheduler.submit(job)
        self._request_pass()

    def _on_job_end(self, job: int) -> None:
        now = self.engine.now
        self.scheduler.end(job, now)
        self._end[job] = now
        self._status[job] = Status.TIME_LIMIT if self._hits_limit[job] else Status.COMPLETED
        self._finished += 1
        if self.scheduler.has_waiting():
            self._request_pass()

    def _on_schedule(self, _: None) -> None:
        self._pass_requested = False
        now = self.engine.now
        for job, allocation in self.scheduler.schedule(now):
            self._start[job] = now
            self._status[job] = Status.RUNNING
            self._pool[job] = allocation.pool
            racks = allocation.racks
            self._racks[job] = len(racks)
            blocks = self.layout.rack_block[racks]
            self._blocks[job] = 1 if len(racks) == 1 else 1 + int(np.count_nonzero(np.diff(blocks)))
            self.engine.at(now + self._run_s[job], JOB_END, self._on_job_end, job)

    def _request_pass(self) -> None:
        """Run a scheduling pass once everything at this instant has happened."""
        if self._pass_requested:
            return
        if self.engine.pending_at(self.engine.now):
            self._pass_requested = True
            self.engine.at(self.engine.now, SCHEDULE, self._on_schedule)
        else:
            self._on_schedule(None)

    # -- helpers ----------------------------------------------------------------------

    def _find_never_fits(self) -> dict[int, str]:
        """Why each job that can never run on the fleet as it will ever be (from its submit time) cannot."""
        jobs, layout = self.jobs, self.layout
        change_times = np.array([change.time_s for change in layout.changes])
        epoch = np.searchsorted(change_times, jobs.submit_s, side="right")
        most: dict[tuple[int, int], int] = {}
        for shape, first in set(zip(jobs.shape.tolist(), epoch.tolist(), strict=True)):
            _, group, within, flavors = jobs.shapes[shape]
            after = float(change_times[first - 1]) if first else 0.0
            most[(shape, first)] = layout.largest_fit(layout.pools_for(flavors), group, within, after)
        reasons_by_job = {}
        for job, (shape, first) in enumerate(zip(jobs.shape.tolist(), epoch.tolist(), strict=True)):
            gpus, group, within, flavors = jobs.shapes[shape]
            if most[(shape, first)] < gpus:
                names = ", ".join(layout.pools[p].name for p in layout.pools_for(flavors)) or "none"
                scope = "one block of " if within else ""
                reasons_by_job[job] = (f"{reasons.NEVER_FITS}: needs {gpus:,} GPUs in NVLink groups of {group}; "
                                       f"the most {scope}any eligible pool ({names}) ever offers is "
                                       f"{most[(shape, first)]:,}")
        return reasons_by_job

    def _record(self) -> RunRecord:
        self.scheduler.explain_waiting()
        reason = [
            self._detail[job] or (reasons.TIME_LIMIT if status == Status.TIME_LIMIT else
                                  self.scheduler.reason[job] if status == Status.QUEUED else "")
            for job, status in enumerate(self._status)
        ]
        return RunRecord(
            start_s=np.array(self._start, dtype=np.float64),
            end_s=np.array(self._end, dtype=np.float64),
            status=np.array(self._status, dtype=object),
            reason=np.array(reason, dtype=object),
            reserved_s=self.scheduler.reserved_s.copy(),
            pool=np.array(self._pool, dtype=np.int64),
            racks=np.array(self._racks, dtype=np.int64),
            blocks=np.array(self._blocks, dtype=np.int64),
            capacity_log=list(self.state.capacity_log),
            end_of_run_s=self.until_s,
            events=self.engine.events,
        )
