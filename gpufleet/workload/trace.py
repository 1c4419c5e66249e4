"""Replay a recorded job trace as a workload: window, time and size scaling, repetition.

Rows the simulator cannot replay are left out and counted in the read report, never
dropped silently: CPU-only jobs (no GPU to place), jobs that never ran in the trace (no
run time), GPU-sharing pods under `gpu_sharing: skip`, and arrivals outside the window
or after the scenario's end. `gpufleet trace check SCENARIO` prints the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.fleet.flavors import with_providers
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.workload import Estimate, GpuSharing, TraceColumns, TraceSpec
from gpufleet.traces.report import ReadReport
from gpufleet.traces.tables import JobTrace
from gpufleet.workload.estimates import planned_run_s
from gpufleet.workload.jobs import JobColumns

DAY_S = 86400.0
HOUR_S = 3600.0

CPU_ONLY = "CPU-only job (no GPU to place)"
NEVER_RAN = "never ran in the trace (no run time)"
NO_RUN_TIME = "started, but the trace has no run time (still running when it was recorded)"
SHARING_SKIPPED = "GPU-sharing pod (gpu_sharing: skip)"
OUTSIDE_WINDOW = "submitted outside the window"
AFTER_END = "arrives after the scenario end"
NO_ARRIVALS = ("philly-runtime holds run times only (no submit times or GPU counts): draw a synthetic workload's "
               "run times from it instead, duration: {dist: trace, format: philly-runtime, path: ...}")


@dataclass
class TraceWorkload:
    """The jobs of one trace workload and how they were chosen.

    Attributes:
        parts: job columns, one per distinct flavor list.
        report: the read report, with rows left out by reason.
        names: per replayed job (in `parts` order), its name.
        real_wait_s: per replayed job, its wait in the trace (NaN if unknown).
        notes: how kept rows were changed (e.g. sharing pods rounded up).
    """

    parts: list[JobColumns]
    report: ReadReport
    names: list[str]
    real_wait_s: np.ndarray
    notes: list[str]


def trace_path(spec: TraceSpec) -> Path:
    """The trace file (absolute paths as given; relative ones from the current directory)."""
    return Path(spec.path).expanduser()


def read(spec: TraceSpec) -> JobTrace:
    """Read the trace file of a workload (InputError on an unreadable file or, if strict, a bad row)."""
    path = trace_path(spec)
    if spec.format == "alibaba-openb":
        from gpufleet.traces.openb import read_pods

        trace = read_pods(path)
    elif spec.format == "generic-jobs":
        from gpufleet.traces.generic import read_jobs

        trace = read_jobs(path, spec.columns, spec.time_unit, spec.duration_unit)
    else:
        from gpufleet.traces.formats import read_job_trace

        columns = spec.columns.model_dump(exclude_unset=True) if spec.columns is not None else None
        trace = read_job_trace(path, spec.format, columns)
    trace.report.check(spec.strict)
    return trace


def largest_divisor_at_most(gpus: np.ndarray, cap: int) -> np.ndarray:
    """Per job, the largest divisor of its GPU count that is at most `cap` (its NVLink group)."""
    out = np.ones(len(gpus), dtype=np.int64)
    for value in np.unique(gpus).tolist():
        best = max(d for d in range(1, min(value, cap) + 1) if value % d == 0)
        out[gpus == value] = best
    return out


def trace_jobs(spec: TraceSpec, scenario: Scenario, trace: JobTrace | None = None) -> TraceWorkload:
    """The jobs a trace workload submits to the scenario."""
    trace = read(spec) if trace is None else trace
    if spec.format == "philly-runtime":
        raise InputError([Problem(NO_ARRIVALS, file=trace.report.path)])
    if not trace.has_submit or not trace.has_gpus:
        raise InputError([Problem("a trace workload needs submit times and GPU counts (columns.submit and "
                                  "columns.gpus must name columns)", file=trace.report.path)])
    keep, lo, hi, notes = _select(trace, spec)
    rows, submit_s, copy_of = _arrivals(trace, keep, lo, hi, spec, scenario)
    gpus = np.maximum(1, np.rint(trace.gpus[rows] * spec.size_scale)).astype(np.int64)
    if spec.format == "alibaba-openb":
        group = gpus.copy()  # a pod runs on one node: its GPUs form one group
    else:
        group = largest_divisor_at_most(gpus, spec.group_size)
    if trace.group is not None:
        group = _recorded_groups(gpus, trace.group[rows], group)
    duration = trace.duration_s[rows] * spec.duration_scale
    limit = np.full(len(rows), spec.time_limit_hours * HOUR_S if spec.time_limit_hours else np.inf)
    if trace.time_limit_s is not None:
        own = trace.time_limit_s[rows]
        limit = np.minimum(limit, np.where(np.isnan(own), np.inf, own))
    estimate = planned_run_s(duration, limit, spec.estimate or scenario.scheduler.estimate)
    within_block = trace.within_block[rows] if trace.within_block is not None else np.zeros(len(rows), dtype=bool)
    teams = _teams(trace, rows, spec)
    names = _names(trace, rows, copy_of, spec)
    labels = trace.job_class.take(rows).to_pylist() if trace.job_class is not None else None
    parts: list[JobColumns] = []
    order: list[np.ndarray] = []
    for flavors, mine in _by_flavors(_flavors(trace, rows, spec)):
        def pick(values: np.ndarray, mine: np.ndarray | None = mine) -> np.ndarray:
            return values if mine is None else values[mine]

        def pick_list(values: list[str], mine: np.ndarray | None = mine) -> list[str]:
            return values if mine is None else [values[i] for i in mine.tolist()]

        order.append(np.arange(len(rows)) if mine is None else mine)
        parts.append(JobColumns(
            workload=spec.name, submit_s=pick(submit_s), gpus=pick(gpus), group=pick(group),
            within_block=pick(within_block), duration_s=pick(duration),
            time_limit_s=pick(limit), estimate_s=pick(estimate), team=pick_list(teams), names=pick_list(names),
            flavors=with_providers(flavors, spec.providers), kind="trace",
            labels=pick_list(labels) if labels is not None else None,
        ))
    ordered = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    ordered_names = names if len(parts) == 1 else [names[i] for i in ordered.tolist()]
    return TraceWorkload(parts, trace.report, ordered_names, trace.wait_s[rows][ordered], notes)


def _recorded_groups(gpus: np.ndarray, recorded: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per job, the largest divisor of its (scaled) GPUs not above the group the trace records
    (e.g. its GPUs per node); the fallback where the trace records none."""
    out = fallback.copy()
    known = recorded > 0
    if known.any():
        pairs = np.unique(np.stack([gpus[known], recorded[known]], axis=1), axis=0)
        for value, cap in pairs.tolist():
            mine = known & (gpus == value) & (recorded == cap)
            out[mine] = max(d for d in range(1, min(value, cap) + 1) if value % d == 0)
    return out


def _select(trace: JobTrace, spec: TraceSpec) -> tuple[np.ndarray, float, float, list[str]]:
    """Rows to replay (the rest counted in the report by reason), the window [lo, hi), notes."""
    report = trace.report
    keep = np.ones(len(trace), dtype=bool)

    def leave_out(mask: np.ndarray, reason: str) -> None:
        nonlocal keep
        report.leave_out(reason, int((keep & mask).sum()))
        keep = keep & ~mask

    leave_out(trace.gpus == 0, CPU_ONLY)
    leave_out(~np.isfinite(trace.duration_s) & np.isfinite(trace.wait_s), NO_RUN_TIME)
    leave_out(~np.isfinite(trace.duration_s), NEVER_RAN)
    sharing = (trace.gpus == 1) & (trace.gpu_share < 1.0)
    if spec.gpu_sharing is GpuSharing.skip:
        leave_out(sharing, SHARING_SKIPPED)
    origin = float(np.min(trace.submit_s)) if len(trace) else 0.0
    window = spec.window
    lo = origin + (window.start_days if window else 0.0) * DAY_S
    hi = origin + window.end_days * DAY_S if window and window.end_days is not None else np.inf
    leave_out((trace.submit_s < lo) | (trace.submit_s >= hi), OUTSIDE_WINDOW)
    notes = []
    if (sharing & keep).any():
        notes.append(f"{int((sharing & keep).sum()):,} GPU-sharing pods each take a whole GPU "
                     "(the simulator places whole GPUs)")
    return keep, lo, hi, notes


def _arrivals(trace: JobTrace, keep: np.ndarray, lo: float, hi: float, spec: TraceSpec,
              scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trace row, scenario submit second, copy) of every replayed job, copy by copy; arrivals
    after the scenario's end are counted in the report."""
    submit = trace.submit_s[keep]
    index = np.flatnonzero(keep)
    if np.isfinite(hi):
        period = hi - lo
    elif len(submit) > 1:
        # Open-ended window: it lasts to the last arrival plus one mean gap between arrivals.
        period = float(submit.max() - lo) * len(submit) / (len(submit) - 1)
    else:
        period = 0.0
    offset = scenario.seconds(spec.start or scenario.start)
    end_s = scenario.seconds(scenario.end)
    rows, times, copies = [], [], []
    for copy in range(spec.repeat):
        when = offset + (submit - lo + copy * period) * spec.time_scale
        inside = when < end_s
        trace.report.leave_out(AFTER_END, int((~inside).sum()))
        rows.append(index[inside])
        times.append(when[inside])
        copies.append(np.full(int(inside.sum()), copy, dtype=np.int64))
    return np.concatenate(rows), np.concatenate(times), np.concatenate(copies)


def _by_flavors(flavors: list[tuple[str, ...] | None]) -> list[tuple[tuple[str, ...] | None, np.ndarray | None]]:
    """Groups of jobs with one flavor list: (flavors, their indexes; None when every job shares it)."""
    keys = list(dict.fromkeys(flavors))
    if len(keys) <= 1:
        return [(keys[0] if keys else None, None)]
    index_of = {key: k for k, key in enumerate(keys)}
    codes = np.array([index_of[value] for value in flavors], dtype=np.int64)
    return [(key, np.flatnonzero(codes == k)) for k, key in enumerate(keys)]


def _teams(trace: JobTrace, rows: np.ndarray, spec: TraceSpec) -> list[str]:
    fallback = spec.team or spec.name
    column = trace.team if trace.team is not None else trace.queue
    if column is None:
        return [fallback] * len(rows)
    values = column.take(rows).to_pylist()
    return [value or fallback for value in values]


def _names(trace: JobTrace, rows: np.ndarray, copy_of: np.ndarray, spec: TraceSpec) -> list[str]:
    if trace.names is not None:
        base = [value or f"{spec.name}-{row}" for value, row in
                zip(trace.names.take(rows).to_pylist(), rows.tolist(), strict=True)]
    else:
        base = [f"{spec.name}-{row}" for row in rows.tolist()]
    if spec.repeat == 1:
        return base
    return [f"{name}#{copy}" for name, copy in zip(base, copy_of.tolist(), strict=True)]


def _flavors(trace: JobTrace, rows: np.ndarray, spec: TraceSpec) -> list[tuple[str, ...] | None]:
    if spec.flavors:
        return [tuple(spec.flavors)] * len(rows)
    if trace.flavors is None:
        return [None] * len(rows)
    return [trace.flavors[row] for row in rows.tolist()]


def check_trace(spec: TraceSpec, scenario: Scenario, where: tuple[str | int, ...]) -> list[tuple[tuple, str]]:
    """Problems a trace workload has before any row is read: the file, its header, dates, options."""
    from gpufleet.traces.csvread import read_header, resolve_columns
    from gpufleet.traces.openb import POD_COLUMNS, POD_OPTIONAL

    problems: list[tuple[tuple, str]] = []
    path = trace_path(spec)
    if spec.format == "philly-runtime":
        problems.append(((*where, "format"), NO_ARRIVALS))
    if not path.is_file():
        relative = "" if path.is_absolute() else f" (relative paths are read from {Path.cwd()})"
        problems.append(((*where, "path"), f"trace file not found: {path}{relative}"))
    elif spec.format in ("alibaba-openb", "generic-jobs", "gpufleet-jobs", "tiresias"):
        try:
            header = read_header(path)
            if spec.format == "alibaba-openb":
                resolve_columns(path, header, {name: name for name in POD_COLUMNS}, POD_OPTIONAL)
            elif spec.format == "gpufleet-jobs":
                from gpufleet.traces.jobfile import COLUMNS, REQUIRED

                resolve_columns(path, header, {name: name for name in COLUMNS}, set(COLUMNS) - set(REQUIRED))
            elif spec.format == "tiresias":
                from gpufleet.traces import tiresias

                resolve_columns(path, header, {name: name for name in tiresias.COLUMNS}, tiresias.OPTIONAL)
            else:
                problems += _check_generic_columns(spec.columns or TraceColumns(), header, path, where)
        except InputError as error:
            problems += [((*where, "path"), f"{problem.message} in {path}") for problem in error.problems]
    if spec.start is not None and spec.start < scenario.start:
        problems.append(((*where, "start"), f"starts {spec.start} before the scenario ({scenario.start})"))
    if spec.start is not None and spec.start >= scenario.end:
        problems.append(((*where, "start"), f"starts {spec.start}, at or after the scenario end ({scenario.end})"))
    if spec.estimate is Estimate.time_limit and spec.time_limit_hours is None \
            and spec.format not in ("slurm-sacct", "swf", "gpufleet-jobs"):  # these record each job's limit
        problems.append(((*where, "estimate"), "estimate time_limit needs time_limit_hours"))
    return problems


def _check_generic_columns(columns: TraceColumns, header: list[str], path: Path,
                           where: tuple[str | int, ...]) -> list[tuple[tuple, str]]:
    problems: list[tuple[tuple, str]] = []
    for name in ("submit", "gpus"):
        if getattr(columns, name) is None:
            problems.append(((*where, "columns", name), f"a trace workload needs {name}: name its column"))
    for name in TraceColumns.model_fields:
        mapped = getattr(columns, name)
        if mapped is not None and mapped not in header and not (name == "duration" and mapped == "duration"):
            problems.append(((*where, "columns", name), f"no column {mapped!r} in {path} "
                             f"(the header has: {', '.join(header)})"))
    has_duration = columns.duration is not None and columns.duration in header
    has_start_end = all((getattr(columns, name) or name) in header for name in ("start", "end"))
    if not has_duration and not has_start_end:
        problems.append(((*where, "columns", "duration"), f"no run time in {path}: map duration, or start and end "
                         f"(the header has: {', '.join(header)})"))
    return problems
