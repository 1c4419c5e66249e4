"""Where runs execute: the `Executor` protocol, in-process, and a local process pool.

Every run is a pure function of (scenario, seed, stop date), so an executor only ships
tasks and collects outcomes; which one ran a point never changes its results (tested
bit for bit). Ray lives in `plan.ray_executor` and loads only when asked for.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Protocol

from gpufleet.plan.tasks import OnDone, RunFn, RunOutcome, RunTask, execute, failed_record

MAX_ATTEMPTS = 2
"""A task whose worker process dies this many times is recorded as failed."""


class Executor(Protocol):
    """Runs tasks somewhere and hands each outcome to `on_done` as it arrives."""

    name: str
    workers: int

    def run(self, run_fn: RunFn, tasks: Sequence[RunTask], on_done: OnDone) -> list[RunOutcome]:
        """Outcomes in the order of `tasks`."""
        ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The machine's cores (those this process may use)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


class SerialExecutor:
    """Runs every task here, one after another (no processes; for tests and debugging)."""

    name = "serial"
    workers = 1

    def run(self, run_fn: RunFn, tasks: Sequence[RunTask], on_done: OnDone) -> list[RunOutcome]:
        outcomes = []
        for task in tasks:
            outcome = execute(run_fn, task)
            on_done(outcome)
            outcomes.append(outcome)
        return outcomes

    def close(self) -> None:
        return None


class LocalPool:
    """A pool of worker processes on this machine (started fresh: `spawn`).

    A worker that dies (killed, out of memory) breaks the pool: the pool is started again,
    the tasks that were in flight are run again one at a time to find the one that kills
    its worker, and that one is recorded as failed once it has done so `MAX_ATTEMPTS`
    times alone; the others carry on.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def run(self, run_fn: RunFn, tasks: Sequence[RunTask], on_done: OnDone) -> list[RunOutcome]:
        outcomes: dict[int, RunOutcome] = {}
        attempts = [0] * len(tasks)
        pending = list(range(len(tasks)))
        suspects: set[int] = set()  # in flight when a worker died: run alone until cleared
        while pending:
            pool = self._start()
            solo = [index for index in pending if index in suspects][:1]
            batch = solo or [index for index in pending if index not in suspects]
            pending = [index for index in pending if index not in batch]
            futures = {pool.submit(partial(execute, run_fn), tasks[index]): index for index in batch}
            waiting = set(futures)
            broken = False
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for future in done:
                    index = futures[future]
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if not solo:
                            suspects.add(index)
                            pending.append(index)
                            continue
                        attempts[index] += 1
                        if attempts[index] < MAX_ATTEMPTS:
                            pending.append(index)
                            continue
                        outcome = RunOutcome(failed_record(tasks[index].spec, "?", "worker process died (killed, "
                                                           "or out of memory) while running this point", "", 0.0))
                    suspects.discard(index)
                    outcomes[index] = outcome
                    on_done(outcome)
            if broken:
                self._restart()
            pending.sort()
        return [outcomes[index] for index in range(len(tasks))]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def make_executor(workers: int | None = None, ray: bool = False, ray_address: str | None = None) -> Executor:
    """A local pool of `workers` processes (default: the cores), or Ray (local or at an address)."""
    if ray or ray_address:
        from gpufleet.plan.ray_executor import RayExecutor  # ray is an optional extra

        return RayExecutor(workers=workers, address=ray_address)
    if workers == 1:
        return SerialExecutor()
    return LocalPool(workers)
