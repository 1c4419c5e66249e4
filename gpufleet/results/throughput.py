"""What speed per GPU type did: per job its class and speed, and per class and GPU type the
jobs that ran there, their run times and their speed (only with a throughput matrix)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpufleet.fleet.layout import FleetLayout
from gpufleet.sim.simulation import RunRecord


def with_speed_columns(jobs: pa.Table, record: RunRecord) -> pa.Table:
    """The job table with `job_class` and `speed` (reference seconds of work per second of work done)."""
    if record.job_class is None or record.speed is None:
        return jobs
    jobs = jobs.append_column("job_class", pa.array(record.job_class.tolist(), type=pa.string()))
    return jobs.append_column("speed", pa.array(record.speed, type=pa.float64()))


def speed_summary(layout: FleetLayout, jobs: pa.Table) -> list[dict[str, Any]]:
    """Per class and GPU type of the pool a job first started on: completed jobs, their mean
    duration on the reference type, mean run time where they ran, and mean speed."""
    if "job_class" not in jobs.column_names:
        return []
    gpu_of_pool = {pool.name: pool.gpu.name for pool in layout.pools}
    done = jobs.filter(pc.equal(jobs["status"], "completed"))
    classes = done["job_class"].to_pylist()
    gpus = [gpu_of_pool.get(pool, "") for pool in done["pool"].to_pylist()]
    duration = done["duration_s"].to_numpy()
    run = done["run_s"].to_numpy()
    speed = done["speed"].to_numpy()
    moved = done["preemptions"].to_numpy() + done["interruptions"].to_numpy()
    rows = []
    for cls, gpu in sorted(set(zip(classes, gpus, strict=True))):
        mine = np.array([c == cls and g == gpu for c, g in zip(classes, gpus, strict=True)], dtype=bool)
        rows.append({
            "job_class": cls, "gpu": gpu, "completed": int(mine.sum()),
            "mean_duration_h": float(duration[mine].mean()) / 3600.0,
            "mean_run_h": float(run[mine].mean()) / 3600.0,
            "mean_speed": float(np.nanmean(speed[mine])) if np.isfinite(speed[mine]).any() else None,
            "stopped_and_resumed": int((moved[mine] > 0).sum()),
        })
    return rows
