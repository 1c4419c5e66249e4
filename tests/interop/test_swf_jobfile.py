"""The SWF reader on a hand-written log, and gpufleet's own job list (gpufleet-jobs)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gpufleet.traces.formats import characterise, read_trace
from gpufleet.traces.jobfile import read_job_file


def test_swf_fields_and_unknowns(data: Path) -> None:
    trace = read_trace(data / "sample.swf", "swf")
    report = trace.report
    assert report.rows == 13 and len(trace) == 6 and report.bad_count == 4
    assert [(bad.line, bad.message) for bad in report.in_line_order()] == [
        (20, "processors: 2.5 is not a whole number"), (21, "submit: unknown (-1); a job needs its submit time"),
        (22, "expected 18 fields, found 8"), (23, "wait: -5 is negative (SWF writes -1 for unknown)")]
    assert report.left_out == {"partial execution of a checkpointed job (status 2-4; its summary line counts the "
                               "job)": 2, "blank line": 1}
    assert trace.calendar and trace.submit_s[0] == 1704067200  # UnixStartTime + 0
    assert trace.names.to_pylist() == ["1", "2", "3", "4", "5", "10"]
    assert trace.gpus.tolist() == [8, 4, 16, 8, 2, 1]  # job 3: allocated -1, so its request
    assert math.isnan(trace.wait_s[2]) and math.isnan(trace.duration_s[2])  # -1: unknown
    assert trace.time_limit_s.tolist() == [7200, 3600, 7200, 3600, math.inf, 600]
    assert trace.status.to_pylist() == ["completed", "completed", "cancelled", "completed", "failed", "completed"]
    assert trace.queue.to_pylist() == ["1", "1", "2", "1", "2", "2"]
    stats = characterise(trace)
    assert stats["jobs"] == 6 and stats["never_ran"] == 1


def test_swf_without_start_time(tmp_path: Path) -> None:
    path = tmp_path / "relative.swf"
    path.write_text("; Version: 2\n1 100 5 60 2 -1 -1 2 120 -1 1 1 1 -1 1 -1 -1 -1\n")
    trace = read_trace(path, "swf")
    assert not trace.calendar and trace.submit_s.tolist() == [100.0] and "no UnixStartTime" in trace.report.notes[0]


def test_job_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(
        "submit,start,end,gpus,gpus_per_group,within_block,time_limit_s,gpu_types,name,team\n"
        "2024-01-01T00:00:00,2024-01-01T00:01:00,2024-01-01T01:01:00,16,8,true,7200,H100|H200,a,t1\n"
        "2024-01-01T00:05:00,,,8,,false,,,b,t1\n"
        "2024-01-01T00:06:00,2024-01-01T00:07:00,,8,,,,,c,t2\n"
        "2024-01-01T00:08:00,,2024-01-01T00:30:00,8,,,,,d,t2\n"
        "2024-01-01T00:09:00,2024-01-01T00:08:00,,8,,,,,e,t2\n"
        "2024-01-01T00:10:00,,,12,5,,,,f,t2\n"
        "2024-01-01T00:11:00,,,8,,maybe,,,g,t2\n"
        "2024-01-01T00:12:00,,2024-01-01T00:11:00,8,,,,,h,t2\n")
    trace = read_job_file(path)
    assert len(trace) == 4 and [(bad.line, bad.message) for bad in trace.report.in_line_order()] == [
        (6, "start is before submit (-60 s)"), (7, "gpus_per_group: 5 does not divide gpus 12"),
        (8, "within_block: 'maybe' is not true or false"), (9, "end is before submit (-60 s)")]
    assert trace.names.to_pylist() == ["a", "b", "c", "d"]
    assert trace.group.tolist() == [8, 0, 0, 0] and trace.within_block.tolist() == [True, False, False, False]
    assert trace.time_limit_s.tolist() == [7200, math.inf, math.inf, math.inf]
    assert trace.flavors == [("H100", "H200"), None, None, None]
    assert trace.duration_s[0] == 3600 and np.isnan(trace.duration_s[1:]).all()
    assert np.isnan(trace.wait_s[1]) and trace.wait_s[2] == 60
    assert np.isnan(trace.withdrawn_s[0]) and trace.withdrawn_s[3] == trace.submit_s[3] + 1320  # left, not started
