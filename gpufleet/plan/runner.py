"""Run a batch of runs through an executor into the store, skipping what is done.

A run already stored (same key: same scenario, seed, stop date, version, engine) is not
run again; a failed one is. Outcomes the workers could not store themselves (a worker
that died, files sent back) are stored here. Afterwards, hidden folders that killed
workers left for these keys are removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gpufleet.plan.executors import Executor
from gpufleet.plan.tasks import RunFn, RunOutcome, RunTask
from gpufleet.store import catalog
from gpufleet.store.keys import RunSpec
from gpufleet.store.store import RunStore


@dataclass
class Progress:
    """Counts for a progress bar: runs to do, done (new or skipped), failed, and timing."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    began: float = field(default_factory=time.perf_counter)
    run_s: list[float] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return self.done + self.failed

    def eta_s(self, workers: int) -> float | None:
        """Time left: the runs left x the mean time of a finished run / workers (None before one ends)."""
        if not self.run_s:
            return None
        left = self.total - self.finished
        return left * (sum(self.run_s) / len(self.run_s)) / max(workers, 1)


ProgressFn = Callable[[Progress, RunOutcome], None]


class Runner:
    """Runs specs through `executor` into `store`, with `run_fn` (`api.run`)."""

    def __init__(self, store: RunStore, executor: Executor, run_fn: RunFn, send_back: bool = False) -> None:
        self.store, self.executor, self.run_fn, self.send_back = store, executor, run_fn, send_back

    def run(self, specs: Sequence[RunSpec], progress: ProgressFn | None = None) -> dict[str, RunOutcome]:
        """Outcome of every spec, by key (each key runs at most once)."""
        unique = {spec.key: spec for spec in specs}
        state = Progress(total=len(unique))
        outcomes: dict[str, RunOutcome] = {}
        todo = []
        for key, spec in unique.items():
            record = self.store.record(key)
            if record is not None and record.ok:
                outcome = RunOutcome(record, skipped=True)
                outcomes[key] = outcome
                state.done += 1
                state.skipped += 1
                if progress is not None:
                    progress(state, outcome)
            else:
                todo.append(RunTask(spec, str(self.store.root), self.send_back))

        def on_done(outcome: RunOutcome) -> None:
            outcome = self._keep(outcome, unique[outcome.key])
            outcomes[outcome.key] = outcome
            if outcome.ok:
                state.done += 1
                state.run_s.append(outcome.record.wall_s)
            else:
                state.failed += 1
            if progress is not None:
                progress(state, outcome)

        if todo:
            try:
                self.executor.run(self.run_fn, todo, on_done)
            finally:
                self.store.remove_debris([task.key for task in todo])
        catalog.refresh(self.store)
        return outcomes

    def _keep(self, outcome: RunOutcome, spec: RunSpec) -> RunOutcome:
        """Store what the worker could not: files sent back, or a failure it did not record."""
        record = outcome.record
        if outcome.files is not None:
            return RunOutcome(self.store.put_files(record, outcome.files))
        if not record.ok and self.store.record(record.key) is None:
            return RunOutcome(self.store.put_failure(spec, record.scenario, record.error or "", record.started,
                                                     record.wall_s))
        return outcome
