"""The Standard Workload Format (SWF) of the Parallel Workloads Archive: one job per line.

Lines starting with `;` are header comments (`; UnixStartTime: 1038844800` places the
log in calendar time; without it times count from the log's start). Each job line has
18 whitespace-separated numbers, -1 where unknown:

     1 job number           7 used memory            13 group id
     2 submit time (s)      8 requested processors   14 executable number
     3 wait time (s)        9 requested time (s)     15 queue number
     4 run time (s)        10 requested memory       16 partition number
     5 allocated procs     11 status                 17 preceding job
     6 average CPU time    12 user id                18 think time

A job's size is its allocated processors (requested when allocated is -1); gpufleet
places them as GPUs, so scale them in a workload (`size_scale`) when a processor is a
CPU core. Requested time is the job's time limit. Status 1 completed, 0 failed, 5
cancelled; 2, 3, 4 mark partial executions of checkpointed jobs, whose summary line
counts the job, so they are left out.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa

from gpufleet.errors import InputError, Problem
from gpufleet.traces.csvread import open_binary
from gpufleet.traces.report import ReadReport
from gpufleet.traces.tables import JobTrace

FIELDS = ("job", "submit", "wait", "run", "allocated", "cpu_time", "memory", "requested", "requested_time",
          "requested_memory", "status", "user", "group", "executable", "queue", "partition", "preceding",
          "think_time")
STATUS = {1: "completed", 0: "failed", 5: "cancelled"}
PARTIAL = "partial execution of a checkpointed job (status 2-4; its summary line counts the job)"


def read_swf(path: str | Path) -> JobTrace:
    """Read an SWF file (see the module docstring)."""
    path = Path(path)
    report = ReadReport(str(path), "swf")
    try:
        with open_binary(path) as stream:
            text = stream.read().decode("utf-8", errors="replace")
    except (OSError, EOFError) as exc:
        raise InputError([Problem(f"cannot read trace: {exc}", file=str(path))]) from None
    origin: float | None = None
    rows: list[list[float]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith(";"):
            key, sep, value = line.lstrip(";").partition(":")
            if sep and key.strip() == "UnixStartTime":
                try:
                    origin = float(value.strip())
                except ValueError:
                    raise InputError([Problem(f"UnixStartTime: {value.strip()!r} is not a number",
                                              file=str(path), line=number)]) from None
            continue
        report.rows += 1
        if not line:
            report.leave_out("blank line", 1)
            continue
        cells = line.split()
        if len(cells) != len(FIELDS):
            report.add_bad(number, f"expected {len(FIELDS)} fields, found {len(cells)}")
            continue
        try:
            values = [_number(cell, FIELDS[k]) for k, cell in enumerate(cells)]
        except ValueError as exc:
            report.add_bad(number, str(exc))
            continue
        problem = _check(values)
        if problem:
            report.add_bad(number, problem)
            continue
        if int(values[10]) in (2, 3, 4):
            report.leave_out(PARTIAL, 1)
            continue
        rows.append(values)
    if origin is not None:
        report.notes.append(f"times from UnixStartTime {origin:.0f} ({_utc(origin)} UTC)")
    else:
        report.notes.append("no UnixStartTime header: times count from the log's start (hour of day and "
                            "weekday unknown)")
    return _trace(rows, origin, report)


def _number(cell: str, field: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{field}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{field}: {cell!r} is not a number")
    return value


def _check(values: list[float]) -> str | None:
    for k, value in enumerate(values):
        if value < 0 and value != -1:
            return f"{FIELDS[k]}: {value:g} is negative (SWF writes -1 for unknown)"
    if values[1] < 0:
        return "submit: unknown (-1); a job needs its submit time"
    processors = values[4] if values[4] >= 0 else values[7]
    if processors < 0:
        return "allocated and requested processors both unknown (-1)"
    if processors != int(processors):
        return f"processors: {processors:g} is not a whole number"
    return None


def _utc(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _trace(rows: list[list[float]], origin: float | None, report: ReadReport) -> JobTrace:
    data = np.array(rows, dtype=np.float64).reshape(-1, len(FIELDS))

    def column(k: int) -> np.ndarray:
        return np.where(data[:, k] >= 0, data[:, k], np.nan)

    submit = data[:, 1] + (origin or 0.0)
    processors = np.where(data[:, 4] >= 0, data[:, 4], data[:, 7]).astype(np.int64)
    limit = column(8)

    def text(k: int, prefix: str = "") -> pa.ChunkedArray:
        return pa.chunked_array([pa.array([f"{prefix}{int(v)}" if v >= 0 else None for v in data[:, k].tolist()],
                                          type=pa.string())])

    status = pa.chunked_array([pa.array([STATUS.get(int(v)) for v in data[:, 10].tolist()], type=pa.string())])
    return JobTrace(
        report=report, submit_s=submit, gpus=processors, gpu_share=processors.astype(np.float64),
        duration_s=column(3), wait_s=column(2), calendar=origin is not None, names=text(0), queue=text(14),
        status=status, extra={"user": text(11), "partition": text(15)},
        time_limit_s=np.where(np.isnan(limit), np.inf, limit),
    )
