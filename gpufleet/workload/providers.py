"""Queue-level provider preferences applied to the jobs of each queue (`scheduler.queues[].providers`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from gpufleet.fleet.flavors import has_providers, with_providers
from gpufleet.workload.jobs import JobTable


def with_queue_providers(jobs: JobTable, queue_of: Sequence[int],
                         providers: Sequence[Sequence[str] | None]) -> JobTable:
    """`jobs` with each job that names no providers of its own given its queue's (in its
    shape's placement key); the same table when no queue names providers."""
    if not any(providers):
        return jobs
    shapes: list = []
    index: dict = {}
    new_shape = np.empty(len(jobs), dtype=np.int64)
    for job, shape in enumerate(jobs.shape.tolist()):
        gpus, group, within, flavors = jobs.shapes[shape]
        wanted = providers[queue_of[job]]
        if wanted and not has_providers(flavors):
            flavors = with_providers(flavors, wanted)
        key = (gpus, group, within, flavors)
        if key not in index:
            index[key] = len(shapes)
            shapes.append(key)
        new_shape[job] = index[key]
    return replace(jobs, shape=new_shape, shapes=shapes)
