"""The job table and the hourly time series of a run, as Arrow tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pyarrow as pa

from gpufleet.catalog.size_class import LABELS, size_class_index
from gpufleet.fleet.layout import FleetLayout
from gpufleet.results.timeseries import StepTimes, integrate_steps, interval_starts
from gpufleet.sim.history import ColumnHistory
from gpufleet.sim.sampling import hour_edges
from gpufleet.sim.serving import ServiceRecord
from gpufleet.sim.simulation import RunRecord, Status
from gpufleet.workload.jobs import JobTable

_REASON_TYPE = pa.list_(pa.struct([("t_s", pa.float64()), ("reason", pa.string())]))


def held_s(jobs: JobTable, record: RunRecord) -> np.ndarray:
    """Seconds each job held its GPUs, over all its run segments."""
    segments = record.segments
    return np.bincount(segments["job"], weights=segments["end_s"] - segments["start_s"], minlength=len(jobs))


def ettr(jobs: JobTable, record: RunRecord) -> np.ndarray:
    """Effective training time ratio per started job: productive time / wall time since the
    first start (until the end, or the horizon for jobs still running)."""
    until = np.where(np.isnan(record.end_s), record.end_of_run_s, record.end_s)
    wall = until - record.start_s
    productive = record.productive_gpu_s / jobs.gpus
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wall > 0, productive / wall, np.nan)


def jobs_table(start: datetime, layout: FleetLayout, jobs: JobTable, record: RunRecord) -> pa.Table:
    """One row per job: what it asked for, when it waited and ran, where, and why it waited."""
    started = ~np.isnan(record.start_s)
    run_s = np.where(started, held_s(jobs, record), np.nan)
    pool_names = [pool.name for pool in layout.pools] + [""]
    submit_us = (jobs.submit_s * 1e6).round()
    finite = np.isfinite(submit_us)
    base = np.datetime64(start, "us")
    submit_time = pa.array(
        np.where(finite, base + np.where(finite, submit_us, 0).astype("timedelta64[us]"), np.datetime64("NaT")),
        type=pa.timestamp("us"),
    )
    return pa.table({
        "job_id": np.arange(len(jobs), dtype=np.int64),
        "name": strings(jobs.names),
        "workload": labelled(jobs.workloads, jobs.workload),
        "team": strings(jobs.team),
        "kind": strings(jobs.kind),
        "queue": labelled(record.queue_names, record.queue),
        "priority": record.priority,
        "gpus": jobs.gpus,
        "group_size": jobs.group,
        "within_block": jobs.within_block,
        "size_class": labelled(LABELS, size_class_index(jobs.gpus)),
        "submit_time": submit_time,
        "submit_s": jobs.submit_s,
        "start_s": record.start_s,
        "end_s": record.end_s,
        "wait_s": record.start_s - jobs.submit_s,
        "jct_s": record.end_s - jobs.submit_s,
        "run_s": run_s,
        "duration_s": jobs.duration_s,
        "estimate_s": jobs.estimate_s,
        "time_limit_s": jobs.time_limit_s,
        "status": record_strings(record, "status"),
        "reason": record_strings(record, "reason"),
        "reasons": reasons_column(record.history, len(jobs)),
        "reserved_s": record.reserved_s,
        "preemptions": record.preemptions,
        "interruptions": record.interruptions,
        "productive_gpu_hours": record.productive_gpu_s / 3600.0,
        "lost_gpu_hours": record.lost_gpu_s / 3600.0,
        "overhead_gpu_hours": record.overhead_gpu_s / 3600.0,
        "failure_lost_gpu_hours": record.failure_lost_gpu_s / 3600.0,
        "failure_overhead_gpu_hours": record.failure_overhead_gpu_s / 3600.0,
        "limit_lost_gpu_hours": record.limit_lost_gpu_s / 3600.0,
        "checkpoint_gpu_hours": record.checkpoint_gpu_s / 3600.0,
        "ettr": ettr(jobs, record),
        "pool": labelled(pool_names, np.where(record.pool < 0, len(pool_names) - 1, record.pool)),
        "racks": record.racks,
        "blocks": record.blocks,
        "gpu_hours": np.where(started, jobs.gpus * np.nan_to_num(run_s) / 3600.0, 0.0),
    })


def strings(values: np.ndarray | pa.Array) -> pa.Array:
    """A string column from an object array of str (read by Arrow in C, no Python list between)."""
    return values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())


def record_strings(record: RunRecord, name: str) -> pa.Array:
    """The record's string column `name` (status, reason), from its codes when it has them."""
    coded = record.coded.get(name)
    return labelled(coded[1], coded[0]) if coded is not None else strings(getattr(record, name))


def is_in(record: RunRecord, name: str, values: Sequence[str]) -> np.ndarray:
    """Per job, whether the record's string column `name` holds one of `values`."""
    coded = record.coded.get(name)
    if coded is None:
        return np.isin(getattr(record, name), values)
    codes, labels = coded
    return np.array([label in values for label in labels], dtype=bool)[codes]


def labelled(labels: Sequence[str], index: np.ndarray) -> pa.Array:
    """The string column holding labels[index[i]] in row i."""
    return pa.array(labels, type=pa.string()).take(pa.array(index, type=pa.int64()))


def reasons_column(history: Mapping[int, list[tuple[float, str]]], n_jobs: int) -> pa.Array:
    """Each job's (time, reason) history as a list column, built from flat arrays and
    offsets (0.5 s instead of 2.3 s with a Python dict per entry, for a million entries;
    straight from the native core's columns, with no Python object per entry)."""
    if isinstance(history, ColumnHistory):
        lengths = np.concatenate(([0], history.lengths(n_jobs)))
        times = pa.array(history.time_s, type=pa.float64())
        reasons = labelled(history.labels, history.code)
    else:
        jobs = sorted(history)
        lengths = np.zeros(n_jobs + 1, dtype=np.int64)
        lengths[np.array(jobs, dtype=np.int64) + 1] = [len(history[job]) for job in jobs]
        entries = [entry for job in jobs for entry in history[job]]
        times = pa.array([t for t, _ in entries], type=pa.float64())
        reasons = pa.array([why for _, why in entries], type=pa.string())
    values = pa.StructArray.from_arrays([times, reasons], fields=list(_REASON_TYPE.value_type))
    return pa.ListArray.from_arrays(pa.array(np.cumsum(lengths), type=pa.int32()), values, type=_REASON_TYPE)


def failures_table(start: datetime, layout: FleetLayout, record: RunRecord) -> pa.Table:
    """One row per failure: when, which process and cause, what it took down, whom it hit."""
    failures = record.failures
    pools = [pool.name for pool in layout.pools]
    base = np.datetime64(start, "us")
    times = np.array([f.time_s for f in failures], dtype=np.float64)
    return pa.table({
        "time": pa.array(base + (times * 1e6).round().astype("timedelta64[us]"), type=pa.timestamp("us")),
        "t_s": times,
        "process": pa.array([f.process for f in failures], type=pa.string()),
        "cause": pa.array([f.cause for f in failures], type=pa.string()),
        "component": pa.array([f.component for f in failures], type=pa.string()),
        "pool": pa.array([pools[f.pool] for f in failures], type=pa.string()),
        "rack": pa.array([f.rack for f in failures], type=pa.int64()),
        "node": pa.array([f.node for f in failures], type=pa.int64()),
        "gpus_down": pa.array([f.gpus_down for f in failures], type=pa.int64()),
        "jobs_hit": pa.array([f.jobs_hit for f in failures], type=pa.int64()),
        "replicas_hit": pa.array([f.replicas_hit for f in failures], type=pa.int64()),
        "spare_used": pa.array([f.spare_used for f in failures], type=pa.bool_()),
        "repaired_s": pa.array([f.repaired_s for f in failures], type=pa.float64()),
    })


def timeseries_arrays(start: datetime, layout: FleetLayout, jobs: JobTable,
                      record: RunRecord) -> dict[str, np.ndarray]:
    """Per-interval means (hourly) and per-pool GPU-hours, from the run record."""
    edges = hour_edges(start, record.end_of_run_s)
    seconds = np.diff(edges)
    n_pools = len(layout.pools)
    segments = record.segments
    segment_gpus = jobs.gpus[segments["job"]].astype(np.float64)
    installed_h = np.zeros((len(seconds), n_pools))
    allocated_h = np.zeros((len(seconds), n_pools))
    log = np.array(record.capacity_log, dtype=np.float64).reshape(-1, 3)
    burn_in = np.array(layout.burn_in_log(), dtype=np.float64).reshape(-1, 3)
    burn_in_h = np.zeros((len(seconds), n_pools))
    run_steps = StepTimes(np.concatenate([segments["start_s"], segments["end_s"]]), edges)
    for pool in range(n_pools):
        mine = log[:, 1] == pool
        installed_h[:, pool] = integrate_steps(log[mine, 0], log[mine, 2], edges)[0] / 3600.0
        testing = burn_in[:, 1] == pool
        if testing.any():
            burn_in_h[:, pool] = integrate_steps(burn_in[testing, 0], burn_in[testing, 2], edges)[0] / 3600.0
            if layout.pools[pool].burn_in_billed:  # handed over: installed and billed, not yet placeable
                installed_h[:, pool] += burn_in_h[:, pool]
        ran = segments["pool"] == pool
        if ran.all():  # every segment: the same times as `running` below, sorted once
            allocated_h[:, pool] = run_steps.integrate(np.concatenate([segment_gpus, -segment_gpus]))[0] / 3600.0
        else:
            times = np.concatenate([segments["start_s"][ran], segments["end_s"][ran]])
            deltas = np.concatenate([segment_gpus[ran], -segment_gpus[ran]])
            allocated_h[:, pool] = integrate_steps(times, deltas, edges)[0] / 3600.0
    serving_h = serving_gpu_hours(record.services, edges, n_pools)
    allocated_h += serving_h
    # In the system from submission to the final end; queued = in the system and not running.
    entered = is_in(record, "status", [Status.QUEUED, Status.RUNNING, Status.COMPLETED, Status.TIME_LIMIT])
    ended = entered & ~np.isnan(record.end_s)
    gpus = jobs.gpus.astype(np.float64)
    system_times = np.concatenate([jobs.submit_s[entered], record.end_s[ended]])
    system_steps = StepTimes(system_times, edges)
    system_jobs = system_steps.integrate(np.concatenate([np.ones(int(entered.sum())), -np.ones(int(ended.sum()))]))[0]
    system_gpus = system_steps.integrate(np.concatenate([gpus[entered], -gpus[ended]]))[0]
    del system_steps, system_times
    n_segments = len(segment_gpus)
    running = run_steps.integrate(np.concatenate([np.ones(n_segments), -np.ones(n_segments)]))[0]
    del run_steps
    running_gpus = (allocated_h - serving_h).sum(axis=1) * 3600.0
    sampled = {name: np.zeros(len(seconds)) for name in
               ("unusable_gpus", "startable_gpus", "stranded_gpus", "startable_utilisation")}
    samples = record.samples
    if len(samples["time_s"]):
        at_end = np.searchsorted(edges[1:], samples["time_s"])
        inside = at_end < len(seconds)
        for name, values in sampled.items():
            values[at_end[inside]] = samples[name][inside]
    repair_log = np.array(record.failed_log, dtype=np.float64).reshape(-1, 3)
    in_repair = integrate_steps(repair_log[:, 0], repair_log[:, 2], edges)[0]
    failure_times = np.array([failure.time_s for failure in record.failures], dtype=np.float64)
    failures = np.bincount(np.searchsorted(edges, failure_times, side="right") - 1, minlength=len(seconds))
    return {
        "edges": edges,
        "seconds": seconds,
        "gpus_in_repair": in_repair / seconds,
        "failures": failures[: len(seconds)],
        "installed_gpu_hours": installed_h,
        "allocated_gpu_hours": allocated_h,
        "serving_gpu_hours": serving_h,
        "queued_jobs": (system_jobs - running) / seconds,
        "queued_gpus": (system_gpus - running_gpus) / seconds,
        "running_jobs": running / seconds,
        **sampled,
        **({"burn_in_gpu_hours": burn_in_h} if layout.has_burn_in else {}),
    }


def serving_gpu_hours(services: list[ServiceRecord], edges: np.ndarray, n_pools: int) -> np.ndarray:
    """GPU-hours held by serving replicas in each interval and pool (warming ones included)."""
    held = np.zeros((len(edges) - 1, n_pools))
    for service in services:
        log = service.held_log
        for pool in range(n_pools):
            mine = log[:, 1] == pool
            if mine.any():
                held[:, pool] += integrate_steps(log[mine, 0], log[mine, 2], edges)[0] / 3600.0
    return held


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
        "serving_gpus": series["serving_gpu_hours"].sum(axis=1) / hours,
        "training_gpus": allocated - series["serving_gpu_hours"].sum(axis=1) / hours,
        "queued_jobs": series["queued_jobs"],
        "queued_gpus": series["queued_gpus"],
        "running_jobs": series["running_jobs"],
        "unusable_gpus": series["unusable_gpus"],
        "startable_gpus": series["startable_gpus"],
        "stranded_gpus": series["stranded_gpus"],
        "startable_utilisation": series["startable_utilisation"],
        "failures": series["failures"],
        "gpus_in_repair": series["gpus_in_repair"],
    }
    if "burn_in_gpu_hours" in series:  # racks handed over, in acceptance tests (delivery risk)
        columns["burn_in_gpus"] = series["burn_in_gpu_hours"].sum(axis=1) / hours
    for pool in layout.pools:
        columns[f"{pool.name}.installed_gpus"] = series["installed_gpu_hours"][:, pool.index] / hours
        columns[f"{pool.name}.allocated_gpus"] = series["allocated_gpu_hours"][:, pool.index] / hours
    return pa.table(columns)
