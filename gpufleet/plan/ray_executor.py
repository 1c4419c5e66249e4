"""Ray as an executor: each run is a Ray task (`pip install 'gpufleet[ray]'`).

Without an address, Ray starts on this machine with `workers` CPUs. With one (`ray://`
or `auto`), tasks go to that cluster: every node needs the same gpufleet version (it is
part of each run's key), and either the store on storage every node sees (NFS, EFS,
FSx for Lustre) or `send_back`, which returns each run's files for the driver to store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ray

from gpufleet.plan.tasks import OnDone, RunFn, RunOutcome, RunTask, execute, failed_record


@ray.remote(num_cpus=1, max_retries=1)
def _execute(run_fn: RunFn, task: RunTask) -> RunOutcome:
    return execute(run_fn, task)


class RayExecutor:
    """Ship tasks to Ray, one CPU each; a task whose worker dies twice is recorded as failed."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self._started = not ray.is_initialized()
        if self._started:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, **options)
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def run(self, run_fn: RunFn, tasks: Sequence[RunTask], on_done: OnDone) -> list[RunOutcome]:
        function = ray.put(run_fn)
        refs = {_execute.remote(function, task): index for index, task in enumerate(tasks)}
        outcomes: dict[int, RunOutcome] = {}
        waiting = list(refs)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            for ref in done:
                index = refs[ref]
                try:
                    outcome = ray.get(ref)
                except (ray.exceptions.RayError, OSError) as error:
                    outcome = RunOutcome(failed_record(tasks[index].spec, "?", f"Ray task failed: {error}", "", 0.0))
                outcomes[index] = outcome
                on_done(outcome)
        return [outcomes[index] for index in range(len(tasks))]

    def close(self) -> None:
        if self._started and ray.is_initialized():
            ray.shutdown()
