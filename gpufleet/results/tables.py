"""The job table and the hourly time series of a run, as Arrow tables."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from gpufleet.fleet.layout import FleetLayout
from gpufleet.results.timeseries import hour_edges, integrate_steps, interval_starts
from gpufleet.sim.simulation import RunRecord, Status
from gpufleet.workload.jobs import JobTable
from gpufleet.workload.size_class import size_class


def held_until(record: RunRecord) -> np.ndarray:
    """When each started job gave its GPUs back (the horizon if still running)."""
    return np.where(np.isnan(record.end_s), record.end_of_run_s, record.end_s)


def jobs_table(start: datetime, layout: FleetLayout, jobs: JobTable, record: RunRecord) -> pa.Table:
    """One row per job: what it asked for, when it waited and ran, where, and why not."""
    started = ~np.isnan(record.start_s)
    run_s = np.where(started, held_until(record) - record.start_s, np.nan)
    pool_names = np.array([pool.name for pool in layout.pools] + [""], dtype=object)
    submit_us = (jobs.submit_s * 1e6).round()
    finite = np.isfinite(submit_us)
    base = np.datetime64(start, "us")
    submit_time = pa.array(
        np.where(finite, base + np.where(finite, submit_us, 0).astype("timedelta64[us]"), np.datetime64("NaT")),
        type=pa.timestamp("us"),
    )
    return pa.table({
        "job_id": np.arange(len(jobs), dtype=np.int64),
        "name": pa.array(jobs.names.tolist(), type=pa.string()),
        "workload": pa.array(np.array(jobs.workloads, dtype=object)[jobs.workload].tolist(), type=pa.string()),
        "team": pa.array(jobs.team.tolist(), type=pa.string()),
        "kind": pa.array(jobs.kind.tolist(), type=pa.string()),
        "gpus": jobs.gpus,
        "group_size": jobs.group,
        "within_block": jobs.within_block,
        "size_class": pa.array(size_class(jobs.gpus).tolist(), type=pa.string()),
        "submit_time": submit_time,
        "submit_s": jobs.submit_s,
        "start_s": record.start_s,
        "end_s": record.end_s,
        "wait_s": record.start_s - jobs.submit_s,
        "run_s": run_s,
        "duration_s": jobs.duration_s,
        "estimate_s": jobs.estimate_s,
        "time_limit_s": jobs.time_limit_s,
        "status": pa.array(record.status.tolist(), type=pa.string()),
        "reason": pa.array(record.reason.tolist(), type=pa.string()),
        "reserved_s": record.reserved_s,
        "pool": pa.array(pool_names[record.pool].tolist(), type=pa.string()),
        "racks": record.racks,
        "blocks": record.blocks,
        "gpu_hours": np.where(started, jobs.gpus * np.nan_to_num(run_s) / 3600.0, 0.0),
    })


def timeseries_arrays(start: datetime, layout: FleetLayout, jobs: JobTable,
                      record: RunRecord) -> dict[str, np.ndarray]:
    """Per-interval means (hourly) and per-pool GPU-hours, from the run record."""
    edges = hour_edges(start, record.end_of_run_s)
    seconds = np.diff(edges)
    n_pools = len(layout.pools)
    started = ~np.isnan(record.start_s)
    held = held_until(record)
    installed_h = np.zeros((len(seconds), n_pools))
    allocated_h = np.zeros((len(seconds), n_pools))
    log = np.array(record.capacity_log, dtype=np.float64).reshape(-1, 3)
    for pool in range(n_pools):
        mine = log[:, 1] == pool
        installed_h[:, pool] = integrate_steps(log[mine, 0], log[mine, 2], edges)[0] / 3600.0
        ran = started & (record.pool == pool)
        times = np.concatenate([record.start_s[ran], held[ran]])
        deltas = np.concatenate([jobs.gpus[ran], -jobs.gpus[ran]])
        allocated_h[:, pool] = integrate_steps(times, deltas, edges)[0] / 3600.0
    entered = np.isin(record.status, [Status.QUEUED, Status.RUNNING, Status.COMPLETED, Status.TIME_LIMIT])
    queue_times = np.concatenate([jobs.submit_s[entered], record.start_s[started]])
    ones = np.ones(int(entered.sum()))
    queued_jobs = integrate_steps(queue_times, np.concatenate([ones, -np.ones(int(started.sum()))]), edges)[0]
    queued_gpus = integrate_steps(
        queue_times, np.concatenate([jobs.gpus[entered], -jobs.gpus[started]]).astype(np.float64), edges
    )[0]
    run_times = np.concatenate([record.start_s[started], held[started]])
    n_started = int(started.sum())
    running = integrate_steps(run_times, np.concatenate([np.ones(n_started), -np.ones(n_started)]), edges)[0]
    return {
        "edges": edges,
        "seconds": seconds,
        "installed_gpu_hours": installed_h,
        "allocated_gpu_hours": allocated_h,
        "queued_jobs": queued_jobs / seconds,
        "queued_gpus": queued_gpus / seconds,
        "running_jobs": running / seconds,
    }


def timeseries_table(start: datetime, layout: FleetLayout, series: dict[str, np.ndarray]) -> pa.Table:
    """Hourly table: interval start, means over the interval, and per-pool GPU means."""
    hours = series["seconds"] / 3600.0
    installed = series["installed_gpu_hours"].sum(axis=1) / hours
    allocated = series["allocated_gpu_hours"].sum(axis=1) / hours
    columns: dict[str, object] = {
        "time": pa.array(interval_starts(start, series["edges"]), type=pa.timestamp("us")),
        "t_s": series["edges"][:-1],
        "interval_s": series["seconds"],
        "installed_gpus": installed,
        "allocated_gpus": allocated,
        "utilisation": np.divide(allocated, installed, out=np.zeros_like(allocated), where=installed > 0),
        "queued_jobs": series["queued_jobs"],
        "queued_gpus": series["queued_gpus"],
        "running_jobs": series["running_jobs"],
    }
    for pool in layout.pools:
        columns[f"{pool.name}.installed_gpus"] = series["installed_gpu_hours"][:, pool.index] / hours
        columns[f"{pool.name}.allocated_gpus"] = series["allocated_gpu_hours"][:, pool.index] / hours
    return pa.table(columns)
