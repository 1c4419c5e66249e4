"""gpufleet's own job list (`gpufleet-jobs`): a CSV with every per-job fact the simulator uses.

The importers (`gpufleet import kueue|slurm`) write it from Kubernetes workloads and
Slurm accounting; it can be written by hand or by any script. Columns (header names are
fixed; only `submit` and `gpus` are required):

    submit          ISO 8601 date-time (UTC when it has no offset)
    start, end      ISO 8601; empty start: never started (an end then says when it left the
                    queue, e.g. cancelled); start without end: still running
    gpus            whole GPUs (0: a CPU-only job)
    gpus_per_group  GPUs that must share one NVLink domain (rack), dividing gpus; empty: unknown
    within_block    true/false: the whole gang in one block
    time_limit_s    seconds; empty: no limit
    gpu_types       GPU types (flavors) it may use, separated by |; empty: any
    name, team, queue, priority, status   text

A job that started has a real wait (start - submit); one that ended, a run time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpufleet.traces.csvread import blank_rows, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import integers_ok, numbers, times_s
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags
from gpufleet.traces.tables import Columns, JobTrace

COLUMNS = ("submit", "start", "end", "gpus", "gpus_per_group", "within_block", "time_limit_s", "gpu_types",
           "name", "team", "queue", "priority", "status")
REQUIRED = ("submit", "gpus")
TEXT = ("name", "team", "queue", "priority", "status", "gpu_types")
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


def read_job_file(path: str | Path, block_bytes: int | None = None) -> JobTrace:
    """Read a gpufleet-jobs CSV, streaming (see the module docstring for the columns)."""
    path = Path(path)
    report = ReadReport(str(path), "gpufleet-jobs")
    header = read_header(path)
    optional = set(COLUMNS) - set(REQUIRED)
    found = resolve_columns(path, header, {name: name for name in COLUMNS}, optional)
    out = Columns()
    kwargs = {} if block_bytes is None else {"block_bytes": block_bytes}
    for batch in stream_csv(path, found, report, header, **kwargs):
        cols = batch.columns
        n = len(batch)
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        submit = _time(flags, cols, "submit", required=True)
        start = _time(flags, cols, "start") if "start" in cols else np.full(n, np.nan)
        end = _time(flags, cols, "end") if "end" in cols else np.full(n, np.nan)
        gpus = _whole(flags, cols, "gpus", required=True)
        group = _whole(flags, cols, "gpus_per_group") if "gpus_per_group" in cols else np.full(n, np.nan)
        flags.flag(group == 0, "gpus_per_group: 0 (leave it empty when unknown)")
        flags.flag((group > 0) & (gpus > 0) & (np.fmod(gpus, np.where(group > 0, group, 1)) != 0),
                   "gpus_per_group: {0:g} does not divide gpus {1:g}", group, gpus)
        limit = np.full(n, np.inf)
        if "time_limit_s" in cols:
            values, bad = numbers(cols["time_limit_s"])
            flags.flag_value(bad, "time_limit_s", cols["time_limit_s"], "is not a number")
            flags.flag_value(values <= 0, "time_limit_s", cols["time_limit_s"], "is not positive")
            limit = np.where(np.isnan(values), np.inf, values)
        within = _flag_column(flags, cols, "within_block", n)
        flags.flag(start < submit, "start is before submit ({0:g} s)", start - submit)
        flags.flag(end < start, "end is before start (negative run time: {0:g} s)", end - start)
        flags.flag(np.isnan(start) & (end < submit), "end is before submit ({0:g} s)", end - submit)
        good = flags.commit(report)
        out.expect(batch.expected_rows)
        report.leave_out("blank line", int(blank.sum()))
        out.add("submit", submit[good])
        out.add("gpus", gpus[good].astype(np.int64))
        out.add("group", np.nan_to_num(group[good]).astype(np.int64))
        out.add("within", within[good])
        out.add("limit", limit[good])
        out.add("duration", (end - start)[good])
        out.add("withdrawn", np.where(np.isnan(start), end, np.nan)[good])
        out.add("wait", (start - submit)[good])
        keep = pa.array(good)
        for name in TEXT:
            if name in cols:
                out.add_text(name, cols[name].filter(keep))
    gpus_all = out.numeric("gpus", np.int64)
    types = out.text("gpu_types")
    return JobTrace(
        report=report,
        submit_s=out.numeric("submit"),
        gpus=gpus_all,
        gpu_share=gpus_all.astype(np.float64),
        duration_s=out.numeric("duration"),
        wait_s=out.numeric("wait"),
        calendar=True,
        names=out.text("name"),
        team=out.text("team"),
        queue=out.text("queue"),
        priority=out.text("priority"),
        status=out.text("status"),
        flavors=[tuple(part for part in text.split("|") if part) or None if text else None
                 for text in types.to_pylist()] if types is not None else None,
        group=out.numeric("group", np.int64),
        within_block=out.numeric("within", bool),
        time_limit_s=out.numeric("limit"),
        withdrawn_s=out.numeric("withdrawn"),
    )


def _time(flags: RowFlags, cols: dict[str, pa.Array], field: str, required: bool = False) -> np.ndarray:
    column = cols[field]
    values, bad = times_s(column, "iso")
    flags.flag_value(bad, field, column, "is not an ISO 8601 date-time")
    if required:
        flags.flag_missing(field, values)
    return values


def _whole(flags: RowFlags, cols: dict[str, pa.Array], field: str, required: bool = False) -> np.ndarray:
    column = cols[field]
    values, bad = numbers(column)
    flags.flag_value(bad, field, column, "is not a number")
    if required:
        flags.flag_missing(field, values)
    flags.flag_value(~np.isnan(values) & (~integers_ok(values) | (values < 0)), field, column,
                     "is not a whole number (0 or more)")
    return values


def _flag_column(flags: RowFlags, cols: dict[str, pa.Array], field: str, n: int) -> np.ndarray:
    if field not in cols:
        return np.zeros(n, dtype=bool)
    lower = pc.utf8_lower(pc.utf8_trim_whitespace(cols[field]))
    yes = pc.is_in(lower, value_set=pa.array(TRUE)).to_numpy(zero_copy_only=False)
    no = pc.is_in(lower, value_set=pa.array(FALSE)).to_numpy(zero_copy_only=False)
    present = cols[field].is_valid().to_numpy(zero_copy_only=False)
    flags.flag_value(present & ~yes & ~no, field, cols[field], "is not true or false")
    return yes & present


def job_file_text(rows: list[dict[str, object]]) -> str:
    """Jobs (dicts keyed by COLUMNS; times as ISO text or None) as the text of a gpufleet-jobs CSV."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else _cell(row[name]) for name in COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)
