"""Each job's speed on each pool, from the scenario's throughput matrix.

A job takes the class whose labels include its own label (a trace's model name), else
the class that lists its workload, else none: then it runs at the reference speed (1)
everywhere. A pool's speed for a class is the class's throughput on the pool's GPU type
relative to the reference type.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.throughput import ThroughputSpec
from gpufleet.workload.jobs import JobTable

UNCLASSED = "(reference speed)"
"""The class name of jobs no class claims."""


@dataclass
class JobSpeeds:
    """Per job its class index; per class the speed on each pool; the class names (the
    last is the unclassed jobs', 1 everywhere)."""

    class_of: list[int]
    pool_speed: list[list[float]]
    names: list[str]


def job_speeds(spec: ThroughputSpec, layout: FleetLayout, jobs: JobTable) -> JobSpeeds:
    """The speeds of every job of `jobs` on every pool of `layout`."""
    classes = spec.classes
    by_label = {label: k for k, cls in enumerate(classes) for label in cls.label_set}
    by_workload = {name: k for k, cls in enumerate(classes) for name in cls.workloads}
    unclassed = len(classes)
    workload_class = [by_workload.get(name, unclassed) for name in jobs.workloads]
    labels = jobs.label.tolist() if jobs.label is not None else [""] * len(jobs)
    class_of = [by_label.get(label, workload_class[workload]) if label else workload_class[workload]
                for label, workload in zip(labels, jobs.workload.tolist(), strict=True)]
    pool_speed = []
    for cls in classes:
        speeds = []
        for pool in layout.pools:
            value = spec.relative(cls, pool.gpu.name)
            if value is None:
                raise ValueError(f"throughput class {cls.name!r} gives no throughput for {pool.gpu.name}")
            speeds.append(value)
        pool_speed.append(speeds)
    pool_speed.append([1.0] * len(layout.pools))
    return JobSpeeds(class_of, pool_speed, [cls.name for cls in classes] + [UNCLASSED])
