"""The generic job CSV: one row per job, any header names, any time unit.

Fields (canonical name: meaning), each mapped to a header by `TraceColumns`:

    submit    submit time, in `time_unit` (s, ms, us, min, h, d, iso, or a strptime format)
    gpus      whole GPUs requested (0 = a CPU-only job)
    duration  run time, in `duration_unit`; or give `start` and `end` instead
    start     start time (optional; start - submit is the job's real wait)
    end       end time (optional; with start, the run time)
    name, team, queue, priority, status   optional text

A job whose start is empty (with start/end mapping) never ran: it is kept, with no run
time, for the counts and the outcome mix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from gpufleet.errors import InputError, Problem
from gpufleet.spec.units import SECONDS_PER_UNIT, is_datetime
from gpufleet.spec.workload import TraceColumns
from gpufleet.traces.csvread import blank_rows, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import integers_ok, numbers, times_s
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags
from gpufleet.traces.tables import Columns, JobTrace

REQUIRED = ("submit", "gpus", "duration")
OPTIONAL = ("start", "end", "name", "team", "queue", "priority", "status")
TEXT = ("name", "team", "queue", "priority", "status")


def read_jobs(path: str | Path, columns: TraceColumns | None = None, time_unit: str = "s",
              duration_unit: str = "s", block_bytes: int | None = None) -> JobTrace:
    """Read a generic job CSV, streaming; see the module docstring for the fields."""
    path = Path(path)
    mapping = columns or TraceColumns()
    report = ReadReport(str(path), "generic-jobs")
    header = read_header(path)
    wanted: dict[str, str | None] = {name: getattr(mapping, name) for name in REQUIRED}
    optional: set[str] = set()
    for name in OPTIONAL:
        given = getattr(mapping, name)
        wanted[name] = given or name
        if given is None:
            optional.add(name)
    if mapping.duration == "duration" and "duration" not in header:
        optional.add("duration")  # the default name is absent: start and end may stand in
    found = resolve_columns(path, header, wanted, optional)
    uses_start_end = "duration" not in found and "start" in found and "end" in found
    if mapping.duration is not None and "duration" not in found and not uses_start_end:
        raise InputError([Problem("no run time: map `duration` to a column, or map both `start` and `end` "
                                  f"(the header has: {', '.join(header)})", file=str(path), line=1)])
    out = Columns()
    kwargs = {} if block_bytes is None else {"block_bytes": block_bytes}
    for batch in stream_csv(path, found, report, header, **kwargs):
        cols = batch.columns
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        n = len(batch)
        submit = _time(flags, cols, "submit", time_unit, required=True) if "submit" in cols else np.full(n, np.nan)
        if "gpus" in cols:
            gpus, bad = numbers(cols["gpus"])
            flags.flag_value(bad, "gpus", cols["gpus"], "is not a number")
            flags.flag_missing("gpus", gpus)
            flags.flag_value(~np.isnan(gpus) & (~integers_ok(gpus) | (gpus < 0)), "gpus", cols["gpus"],
                             "is not a whole number of GPUs (0 or more)")
        else:
            gpus = np.full(n, -1.0)
        start = _time(flags, cols, "start", time_unit, required=False) if "start" in cols else np.full(n, np.nan)
        if "duration" in cols:
            duration, bad = numbers(cols["duration"])
            flags.flag_value(bad, "duration", cols["duration"], "is not a number")
            flags.flag_missing("duration", duration)
            flags.flag_value(duration < 0, "duration", cols["duration"], "is negative")
            duration = duration * SECONDS_PER_UNIT[duration_unit]
        elif uses_start_end:
            end = _time(flags, cols, "end", time_unit, required=False)
            duration = end - start
            flags.flag(~np.isnan(start) & np.isnan(end), "end: missing for a job that started")
            flags.flag(end < start, "end is before start (negative run time: {0:g} s)", duration)
        else:
            duration = np.full(n, np.nan)
        flags.flag(start < submit, "start is before submit ({0:g} s)", start - submit)
        good = flags.commit(report)
        out.expect(batch.expected_rows)
        report.leave_out("blank line", int(blank.sum()))
        out.add("submit", submit[good])
        out.add("gpus", gpus[good].astype(np.int64))
        out.add("duration", duration[good])
        out.add("wait", (start - submit)[good])
        keep = pa.array(good)
        for name in TEXT:
            if name in cols:
                out.add_text(name, cols[name].filter(keep))
    gpus_all = out.numeric("gpus", np.int64)
    return JobTrace(
        report=report,
        submit_s=out.numeric("submit"),
        gpus=gpus_all,
        gpu_share=gpus_all.astype(np.float64),
        duration_s=out.numeric("duration"),
        wait_s=out.numeric("wait"),
        calendar=is_datetime(time_unit),
        names=out.text("name"),
        team=out.text("team"),
        queue=out.text("queue"),
        priority=out.text("priority"),
        status=out.text("status"),
    )


def _time(flags: RowFlags, cols: dict[str, pa.Array], field: str, unit: str, required: bool) -> np.ndarray:
    column = cols[field]
    values, bad = times_s(column, unit)
    flags.flag_value(bad, field, column, f"is not a time ({unit})")
    if required:
        flags.flag_missing(field, values)
    return values
