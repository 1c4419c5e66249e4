"""sacct -P dumps: hand-worked fields, and the two real dumps in ../shared/interop/workloads."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gpufleet.errors import InputError
from gpufleet.spec.workload import TraceColumns
from gpufleet.traces.sacct import gpus_from_gres, gpus_from_tres, parse_timelimit, read_sacct

HEADER = "JobID|Partition|QOS|Submit|Start|End|State|NNodes|NCPUS|AllocTRES|ReqTRES|Timelimit|NodeList"


@pytest.mark.parametrize(("text", "seconds"), [
    ("1-00:00:00", 86400.0), ("10:30:00", 37800.0), ("30:00", 1800.0), ("45", 2700.0), ("2-12", 216000.0),
    ("3-04:05", 273900.0), ("37-14:00:00", 3247200.0), ("UNLIMITED", math.inf), ("INFINITE", math.inf),
])
def test_timelimits(text: str, seconds: float) -> None:
    assert parse_timelimit(text) == seconds


@pytest.mark.parametrize("text", ["Partition_Limit", "INVALID", ""])
def test_unknown_timelimits(text: str) -> None:
    assert math.isnan(parse_timelimit(text))


@pytest.mark.parametrize("text", ["1-", "a:b", "1:2:3:4", "--1"])
def test_bad_timelimits(text: str) -> None:
    with pytest.raises(ValueError, match="not a Slurm time"):
        parse_timelimit(text)


def test_tres_and_gres() -> None:
    assert gpus_from_tres("billing=12,cpu=12,gres/gpu=2,mem=31000M,node=1") == (2, None)
    assert gpus_from_tres("cpu=64,gres/gpu:a100=8,gres/gpu=8,node=1") == (8, "a100")
    assert gpus_from_tres("cpu=8,gres/gpu:a100=4,gres/gpu:h100=4") == (8, None)
    assert gpus_from_tres("cpu=8,mem=10G") == (0, None)
    assert gpus_from_gres("gpu:k80:2(IDX:0-1)") == (2, "k80")
    with pytest.raises(ValueError, match="not a whole number"):
        gpus_from_tres("gres/gpu=two")


def test_hand_written_dump(tmp_path: Path) -> None:
    path = tmp_path / "sacct.log"
    path.write_text("\n".join([
        HEADER,
        "100|gpu|normal|2024-01-01T00:00:00|2024-01-01T00:10:00|2024-01-01T01:10:00|COMPLETED|2|32|"
        "cpu=32,gres/gpu:a100=16,gres/gpu=16,node=2|cpu=32,gres/gpu=16|1-00:00:00|g[01-02]",
        "100.batch|||2024-01-01T00:00:00|2024-01-01T00:10:00|2024-01-01T01:10:00|COMPLETED|1|16||||",
        "101_3|gpu|normal|2024-01-01T00:05:00|Unknown|2024-01-01T02:00:00|CANCELLED by 1000|0|0|"
        "|cpu=8,gres/gpu=8|Partition_Limit|None assigned",
        "102|gpu|high|2024-01-01T01:00:00|2024-01-01T01:30:00|Unknown|RUNNING|1|8|cpu=8,gres/gpu=8||UNLIMITED|g03",
        "103|gpu|normal|2024-01-01T02:00:00|2024-01-01T03:00:00|2024-01-01T03:30:00|NODE_FAIL|1|8|"
        "cpu=8,gres/gpu=8||02:00:00|g04",
        "104|gpu|normal|2024-01-01T02:00:00|2024-01-01T01:00:00|2024-01-01T03:30:00|FAILED|1|8|cpu=8||1:00|g05",
        "105|gpu|normal|yesterday|Unknown|Unknown|PENDING|1|8|||1:00|None assigned",
        "106|gpu|normal|2024-01-01T04:00:00|Unknown|Unknown|PENDING|1|8|",
        "107_[1-5]|gpu|normal|2024-01-01T04:00:00|Unknown|Unknown|PENDING|1|8||cpu=8,gres/gpu=8|1:00|None assigned",
    ]) + "\n")
    trace = read_sacct(path)
    report = trace.report
    assert report.rows == 9 and report.bad_count == 3 and len(trace) == 4
    assert report.left_out == {"job step (its job's own row counts)": 1,
                               "pending job-array range (tasks not yet split into jobs)": 1}
    assert [(bad.line, bad.message) for bad in report.in_line_order()] == [
        (7, "start is before submit (-3600 s)"),
        (8, "submit: 'yesterday' is not a time (sacct writes 2024-01-31T12:00:00)"),
        (9, "expected 13 fields, found 10")]
    assert trace.names.to_pylist() == ["100", "101_3", "102", "103"]
    assert trace.gpus.tolist() == [16, 8, 8, 8]  # a pending job's GPUs come from its request
    assert trace.group.tolist() == [8, 0, 8, 8]  # 16 GPUs on 2 nodes; 0 nodes: unknown
    assert trace.flavors == [("a100",), None, None, None]
    assert trace.status.to_pylist() == ["COMPLETED", "CANCELLED", "RUNNING", "NODE_FAIL"]
    assert trace.wait_s[0] == 600 and np.isnan(trace.wait_s[1]) and trace.duration_s[0] == 3600
    assert np.isnan(trace.duration_s[2]) and trace.duration_s[3] == 1800
    assert trace.withdrawn_s[1] == trace.submit_s[1] + 6900  # cancelled 1 h 55 min after submit, never started
    assert trace.time_limit_s[0] == 86400 and np.isnan(trace.time_limit_s[1]) and trace.time_limit_s[2] == math.inf


def test_no_header_and_no_gpus(tmp_path: Path) -> None:
    headless = tmp_path / "headless.log"
    headless.write_text("1|gpu|2024-01-01T00:00:00\n")
    with pytest.raises(InputError, match="no header line"):
        read_sacct(headless)
    gpuless = tmp_path / "gpuless.log"
    gpuless.write_text("JobID|Submit|State\n1|2024-01-01T00:00:00|COMPLETED\n")
    with pytest.raises(InputError, match="no GPU count"):
        read_sacct(gpuless)


def test_xdmod_phillips(interop: Path) -> None:
    """4,285 real jobs, no header (XDMoD's field order), no arrays or steps: every row kept."""
    trace = read_sacct(interop / "workloads" / "xdmod_phillips_sacct.log")
    assert len(trace) == trace.report.rows == 4285 and trace.report.bad_count == 0
    assert "Open XDMoD" in trace.report.notes[0]
    statuses = trace.status.to_pylist()
    assert {state: statuses.count(state) for state in set(statuses)} == {
        "COMPLETED": 2324, "FAILED": 1717, "CANCELLED": 243, "TIMEOUT": 1}
    assert int((trace.gpus > 0).sum()) == 2 and int(trace.gpus.sum()) == 4  # gres/gpu=2 twice, on focaccia
    assert int(np.isnan(trace.wait_s).sum()) == 239  # cancelled with "None assigned"
    cpus = read_sacct(interop / "workloads" / "xdmod_phillips_sacct.log",
                      TraceColumns.model_validate({"gpus": "NCPUS"}))
    assert int(cpus.gpus.sum()) == 34933  # the NCPUS column (field 19) summed with awk
    assert sorted(set(cpus.group.tolist())) == [1, 8, 12]


def test_slurm_sim_tools_dump(interop: Path) -> None:
    """107 fields, arrays, steps and broken rows (a | inside a field; a fragment)."""
    trace = read_sacct(interop / "workloads" / "slurm_sim_tools_sacct_dump2101.log")
    report = trace.report
    assert report.rows == 15 and len(trace) == 8 and report.left_out == {"job step (its job's own row counts)": 2}
    assert [(bad.line, bad.message) for bad in report.in_line_order()] == [
        (12, "expected 107 fields, found 108"), (13, "expected 107 fields, found 108"),
        (14, "expected 107 fields, found 111"), (15, "expected 107 fields, found 109"),
        (16, "expected 107 fields, found 74")]
    assert trace.names.to_pylist()[:2] == ["4744528_255", "4801784_133"]
    assert trace.status.to_pylist()[-2:] == ["COMPLETED", "TIMEOUT"]
    assert trace.time_limit_s.tolist()[-2:] == [144000.0, 259200.0]
    assert int(trace.gpus.sum()) == 0
