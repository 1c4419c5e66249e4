"""The Philly-derived files in ../shared/traces: job run times, and servers in use per minute.

`philly-runtime` (`alibaba-gpu-v2020-philly-runtime/philly_runtime.csv`): one column,
`runtime`, the run time in seconds of each of 83,154 jobs of Microsoft's Philly trace
(Jeon et al., ATC 2019), as Alibaba's PAI analysis notebook plots them. No submit times
and no GPU counts: a job trace for statistics, and a run-time distribution a synthetic
workload can draw from (`duration: {dist: trace, format: philly-runtime, path: ...}`),
as Gavel draws its jobs' durations from Philly's. A bad row has a missing, unparsable or
negative run time.

`philly-node-sequence` (`helios-artifact/philly_node_sequence.csv`): per minute from
2017-10-03 to 2017-12-15 (wall clock, no zone: taken as UTC), `active` Philly servers
in use and `total` servers online, derived by the Helios authors (Hu et al., SC 2021).
Not jobs: a series of occupancy, characterised (span, gaps, servers online, share in
use overall and by hour of day) to set a replay's utilisation beside. A bad row has an
unparsable time, a missing or negative count, more active than online servers, or a time
not after the row before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gpufleet.traces.csvread import blank_rows, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import integers_ok, numbers, times_s
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags
from gpufleet.traces.stats import quantiles, span
from gpufleet.traces.tables import Columns, JobTrace


def read_runtimes(path: str | Path) -> JobTrace:
    """Read `philly_runtime.csv`: run times only (submit times NaN, GPU counts unknown)."""
    path = Path(path)
    report = ReadReport(str(path), "philly-runtime")
    header = read_header(path)
    found = resolve_columns(path, header, {"runtime": "runtime"}, set())
    out = Columns()
    for batch in stream_csv(path, found, report, header):
        column = batch.columns["runtime"]
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        values, bad = numbers(column)
        flags.flag_value(bad, "runtime", column, "is not a number")
        flags.flag_missing("runtime", values)
        flags.flag_value(values < 0, "runtime", column, "is negative")
        good = flags.commit(report)
        report.leave_out("blank line", int(blank.sum()))
        out.expect(batch.expected_rows)
        out.add("runtime", values[good])
    runtime = out.numeric("runtime")
    n = len(runtime)
    report.notes.append("run times only: no submit times or GPU counts (a synthetic workload can draw its run "
                        "times from them: duration dist trace)")
    return JobTrace(report=report, submit_s=np.full(n, np.nan), gpus=np.full(n, -1, dtype=np.int64),
                    gpu_share=np.full(n, np.nan), duration_s=runtime, wait_s=np.full(n, np.nan), calendar=False)


@dataclass
class NodeSequence:
    """Servers in use and online over time (one row per sample)."""

    report: ReadReport
    time_s: np.ndarray
    active: np.ndarray
    total: np.ndarray

    def __len__(self) -> int:
        return len(self.time_s)


def read_node_sequence(path: str | Path) -> NodeSequence:
    """Read `philly_node_sequence.csv` (time, active, total)."""
    path = Path(path)
    report = ReadReport(str(path), "philly-node-sequence")
    header = read_header(path)
    found = resolve_columns(path, header, {name: name for name in ("time", "active", "total")}, set())
    out = Columns()
    last = -np.inf
    for batch in stream_csv(path, found, report, header):
        cols = batch.columns
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        time, bad = times_s(cols["time"], "iso")
        flags.flag_value(bad, "time", cols["time"], "is not a date-time")
        flags.flag_missing("time", time)
        counts = {}
        for name in ("active", "total"):
            values, bad = numbers(cols[name])
            flags.flag_value(bad, name, cols[name], "is not a number")
            flags.flag_missing(name, values)
            flags.flag_value(~np.isnan(values) & (~integers_ok(values) | (values < 0)), name, cols[name],
                             "is not a whole number (0 or more)")
            counts[name] = values
        flags.flag(counts["active"] > counts["total"], "active {0:g} is more than total {1:g}", counts["active"],
                   counts["total"])
        # Times must increase: compare each row with the previous good-looking one.
        previous = np.concatenate([[last], time[:-1]])
        ordered = np.fmax.accumulate(np.where(np.isnan(previous), -np.inf, previous))
        flags.flag(time <= ordered, "time is not after the row before it")
        good = flags.commit(report)
        if good.any():
            last = max(last, float(np.nanmax(time[good])))
        report.leave_out("blank line", int(blank.sum()))
        out.expect(batch.expected_rows)
        out.add("time", time[good])
        out.add("active", counts["active"][good])
        out.add("total", counts["total"][good])
    return NodeSequence(report, out.numeric("time"), out.numeric("active"), out.numeric("total"))


def node_sequence_stats(sequence: NodeSequence) -> dict[str, Any]:
    """Span, sampling and gaps, servers online and in use, and the share in use (overall and by hour)."""
    time, active, total = sequence.time_s, sequence.active, sequence.total
    n = len(sequence)
    out: dict[str, Any] = {"kind": "node_series", "read": sequence.report.to_dict(), "samples": n}
    if n == 0:
        return out
    steps = np.diff(time)
    step = float(np.median(steps)) if len(steps) else 0.0
    gaps = steps[steps > 1.5 * step] if step > 0 else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, active / total, np.nan)
    hours = (np.floor(time / 3600.0) % 24).astype(np.int64)
    by_hour = []
    for hour in range(24):
        mine = (hours == hour) & np.isfinite(share)
        by_hour.append(float(share[mine].mean()) if mine.any() else None)
    out.update({
        "span": span(time, True),
        "sample_step_s": step,
        "gaps": {"count": int(len(gaps)), "longest_h": float(gaps.max()) / 3600.0 if len(gaps) else 0.0,
                 "missing_h": float((gaps - step).sum()) / 3600.0 if len(gaps) else 0.0},
        "total": quantiles(total),
        "active": quantiles(active),
        "share_in_use": {**quantiles(share[np.isfinite(share)]), "mean_of_samples": float(np.nanmean(share)),
                         "servers_weighted": float(active.sum() / total.sum()) if total.sum() > 0 else None},
        "share_in_use_by_hour": by_hour,
    })
    return out
