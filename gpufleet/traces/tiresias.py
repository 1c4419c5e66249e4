"""The job traces the research simulators ship (Tiresias; Gavel's Tiresias-derived traces).

Tiresias' simulator (SymbioticLab/Tiresias, `simulator/*_job.csv`) reads one CSV row per
job with the header

    job_id, num_gpu, submit_time, iterations, model_name, duration, interval

times in seconds from the trace's start: `submit_time` the arrival, `duration` the run
time (on the trace's GPUs), `num_gpu` the GPUs it asks for, `model_name` the network
trained (vgg19, resnet50, ...), `iterations` its training iterations (the schedulers do
not read it) and `interval` the time to the next job's submission. `model_name` becomes
the job's class label, so a throughput matrix (`throughput.classes[].labels`) can give
each model its own speed on each GPU type; `job_id` the job's name.

A bad row has a missing or unparsable field, a negative time or count, a GPU count that
is not a whole number, or no model name. `interval` is checked against the next row's
submit time; rows that disagree are counted in a note (the schedulers use the submit
times).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from gpufleet.traces.csvread import blank_rows, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import integers_ok, numbers
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags
from gpufleet.traces.tables import Columns, JobTrace

COLUMNS = ("job_id", "num_gpu", "submit_time", "iterations", "model_name", "duration", "interval")
OPTIONAL = {"iterations", "interval"}


def read_tiresias(path: str | Path) -> JobTrace:
    """Read a Tiresias-style job CSV (see the module docstring)."""
    path = Path(path)
    report = ReadReport(str(path), "tiresias")
    header = read_header(path)
    found = resolve_columns(path, header, {name: name for name in COLUMNS}, OPTIONAL)
    out = Columns()
    for batch in stream_csv(path, found, report, header):
        cols = batch.columns
        n = len(batch)
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        values = {}
        for name in ("num_gpu", "submit_time", "duration", "iterations", "interval"):
            if name not in cols:
                values[name] = np.full(n, np.nan)
                continue
            parsed, bad = numbers(cols[name])
            flags.flag_value(bad, name, cols[name], "is not a number")
            if name not in OPTIONAL:
                flags.flag_missing(name, parsed)
            flags.flag_value(parsed < 0, name, cols[name], "is negative")
            values[name] = parsed
        gpus = values["num_gpu"]
        flags.flag_value(~np.isnan(gpus) & ~integers_ok(gpus), "num_gpu", cols["num_gpu"], "is not a whole number")
        flags.flag(cols["model_name"].is_null().to_numpy(zero_copy_only=False), "model_name: missing value")
        flags.flag(cols["job_id"].is_null().to_numpy(zero_copy_only=False), "job_id: missing value")
        good = flags.commit(report)
        report.leave_out("blank line", int(blank.sum()))
        out.expect(batch.expected_rows)
        out.add("submit", values["submit_time"][good])
        out.add("gpus", np.nan_to_num(gpus[good]).astype(np.int64))
        out.add("duration", values["duration"][good])
        out.add("interval", values["interval"][good])
        keep = pa.array(good)
        out.add_text("name", cols["job_id"].filter(keep))
        out.add_text("model", cols["model_name"].filter(keep))
    submit = out.numeric("submit")
    interval = out.numeric("interval")
    gpus = out.numeric("gpus", np.int64)
    if len(submit) > 1 and np.isfinite(interval).any():
        gaps = np.diff(submit)
        given = interval[:-1]
        off = np.isfinite(given) & (np.abs(gaps - given) > 1e-6 * np.maximum(np.abs(gaps), 1.0))
        if off.any():
            report.notes.append(f"{int(off.sum()):,} rows give an interval that is not the time to the next row's "
                                "submit_time (the submit times are used)")
    model = out.text("model")
    return JobTrace(
        report=report, submit_s=submit, gpus=gpus, gpu_share=gpus.astype(np.float64),
        duration_s=out.numeric("duration"), wait_s=np.full(len(submit), np.nan), calendar=False,
        names=out.text("name"), extra={"model_name": model} if model is not None else {},
        job_class=model,
    )
