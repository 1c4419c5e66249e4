"""Bad rows: counted, reported with their line numbers, an error under strict; nothing dropped silently."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.spec.request_format import RequestColumns, RequestFormat
from gpufleet.spec.workload import TraceColumns
from gpufleet.traces.generic import read_jobs
from gpufleet.traces.openb import read_pods
from gpufleet.traces.requests import read_requests

HEADER = ("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
          "scheduled_time\n")
GOOD_POD = "p{k},1000,1024,1,1000,,LS,Running,{t},{e},{t}\n"

BAD_OPENB = (
    HEADER                                                    # line 1
    + "p0,1000,1024,1,1000,,LS,Running,0,100,5\n"             # 2 good
    + "p1,1000,1024,1,1000,,LS,Running,10,100\n"              # 3 a field missing
    + "p2,1000,1024,1,1000,,LS,Running,20,10,20\n"            # 4 deleted before created
    + "p3,1000,1024,1,1000,,LS,Running,soon,100,30\n"         # 5 unparsable time
    + "\n"                                                    # 6 blank line
    + "p4,1000,1024,,1000,,LS,Running,40,100,40\n"            # 7 empty num_gpu
    + "p5,1000,1024,2,500,,LS,Running,50,100,50\n"            # 8 two GPUs cannot share
    + "p6,1000,1024,1,470,V100M16|V100M32,BE,Failed,60,200,65\n"  # 9 good (a sharing pod)
    + "p7,1000,1024,0,0,,BE,Pending,70,80,\n"                 # 10 good (never scheduled)
    + "p8,1000,1024,1,1000,,LS,Running,90,100,95,extra\n"     # 11 a field too many
    + "p9,1000,1024,1,1000,,LS,Running,-5,100,0\n"            # 12 negative time
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_openb_bad_rows_are_counted_with_their_lines(tmp_path: Path) -> None:
    trace = read_pods(write(tmp_path / "pods.csv", BAD_OPENB))
    report = trace.report
    assert report.rows == 11 and report.bad_count == 7 and report.left_out == {"blank line": 1}
    assert report.kept == len(trace) == 3
    lines = {row.line: row.message for row in report.bad}
    assert sorted(lines) == [3, 4, 5, 7, 8, 11, 12]
    assert lines[3] == "expected 11 fields, found 10"
    assert "negative lifetime" in lines[4]
    assert lines[5] == "creation_time: 'soon' is not a time in seconds"
    assert lines[7] == "num_gpu: missing value"
    assert "only one-GPU pods share a GPU" in lines[8]
    assert lines[11] == "expected 11 fields, found 12"
    assert "negative" in lines[12]
    assert trace.names.to_pylist() == ["p0", "p6", "p7"]
    assert trace.gpu_share.tolist() == [1.0, 0.47, 0.0]
    assert np.isnan(trace.duration_s[2]) and trace.wait_s.tolist()[:2] == [5.0, 5.0]
    assert trace.flavors == [None, ("V100M16", "V100M32"), None]


def test_strict_turns_bad_rows_into_one_error_with_every_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pods.csv", BAD_OPENB)
    with pytest.raises(InputError) as caught:
        read_pods(path).report.check(strict=True)
    text = str(caught.value)
    assert text.splitlines()[0] == f"{path}: 7 bad rows of 11 (strict mode: fix them or drop --strict)"
    for line in (3, 4, 5, 7, 8, 11, 12):
        assert f"{path}:{line}: " in text
    read_pods(write(tmp_path / "good.csv", HEADER + GOOD_POD.format(k=1, t=0, e=9))).report.check(strict=True)


def test_a_missing_column_names_the_file_and_the_header_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pods.csv", HEADER.replace(",pod_phase", "") + "x\n")
    with pytest.raises(InputError) as caught:
        read_pods(path)
    assert str(caught.value).startswith(f"{path}:1: missing columns: pod_phase (column 'pod_phase'); the header has")


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="trace file not found"):
        read_pods(tmp_path / "nowhere.csv")
    with pytest.raises(InputError, match="empty file"):
        read_pods(write(tmp_path / "empty.csv", ""))


GENERIC = (
    "id,when,started,ended,n,user,state\n"                    # 1
    "a,2024-03-01 10:00:00,2024-03-01 10:00:30,2024-03-01 11:00:30,8,u1,COMPLETED\n"   # 2
    "b,2024-03-01 10:05:00,,,4,u2,CANCELLED\n"                # 3 never started: kept, no run time
    "c,01/03/2024 10:06,2024-03-01 10:07:00,2024-03-01 10:08:00,2,u1,FAILED\n"  # 4 wrong date format
    "d,2024-03-01 10:07:00,2024-03-01 10:06:00,2024-03-01 10:08:00,2,u1,FAILED\n"  # 5 starts before submit
    "e,2024-03-01 10:08:00,2024-03-01 10:09:00,2024-03-01 10:08:30,1,u3,FAILED\n"  # 6 ends before start
    "f,2024-03-01 10:09:00,2024-03-01 10:09:00,2024-03-01 10:19:00,1.5,u3,COMPLETED\n"  # 7 fractional GPUs
    "g,2024-03-02 00:00:00,2024-03-02 00:00:00,2024-03-02 02:00:00,0,u4,COMPLETED\n"  # 8 CPU-only: kept
)
MAPPING = TraceColumns(submit="when", gpus="n", duration=None, start="started", end="ended", name="id",
                       team="user", status="state")


def test_generic_jobs_with_a_column_mapping_and_a_datetime_format(tmp_path: Path) -> None:
    trace = read_jobs(write(tmp_path / "jobs.csv", GENERIC), MAPPING, time_unit="%Y-%m-%d %H:%M:%S")
    lines = {row.line: row.message for row in trace.report.bad}
    assert lines == {
        4: "submit: '01/03/2024 10:06' is not a time (%Y-%m-%d %H:%M:%S)",
        5: "start is before submit (-60 s)",
        6: "end is before start (negative run time: -30 s)",
        7: "gpus: '1.5' is not a whole number of GPUs (0 or more)",
    }
    assert trace.names.to_pylist() == ["a", "b", "g"] and trace.calendar
    assert trace.gpus.tolist() == [8, 4, 0]
    assert trace.duration_s[0] == 3600.0 and np.isnan(trace.duration_s[1]) and trace.duration_s[2] == 7200.0
    assert trace.wait_s[0] == 30.0 and np.isnan(trace.wait_s[1])
    assert trace.status.to_pylist() == ["COMPLETED", "CANCELLED", "COMPLETED"]
    assert trace.team.to_pylist() == ["u1", "u2", "u4"]


def test_generic_units_ms_and_hours(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", "submit,gpus,duration\n1500,1,0.5\n2500,2,2\n")
    trace = read_jobs(path, time_unit="ms", duration_unit="h")
    assert trace.submit_s.tolist() == [1.5, 2.5] and trace.duration_s.tolist() == [1800.0, 7200.0]
    assert not trace.calendar


def test_generic_needs_a_run_time(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", "submit,gpus\n1,1\n")
    with pytest.raises(InputError, match="no run time: map `duration` to a column, or map both `start` and `end`"):
        read_jobs(path)
    with pytest.raises(InputError, match=r"missing columns: duration \(column 'runtime'\)"):
        read_jobs(path, TraceColumns(duration="runtime"))


def test_json_lines_requests_report_bad_lines(tmp_path: Path) -> None:
    rows = [
        {"t": "2024-01-01T00:00:00", "in": 10, "out": 3},     # 1
        "not json {",                                         # 2
        {"t": "2024-01-01T00:00:01", "in": -1, "out": 3},     # 3 negative tokens
        {"t": "yesterday", "in": 1, "out": 3},                # 4 unparsable time
        [1, 2, 3],                                            # 5 not an object
        {"t": "2024-01-01T00:00:02Z", "in": 5},               # 6 a field missing
        {"t": "2024-01-01T01:00:03+01:00", "in": 7, "out": 1},  # 7 good (an offset: 00:00:03 UTC)
    ]
    text = "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n"
    how = RequestFormat(columns=RequestColumns(arrival="t", input_tokens="in", output_tokens="out"), time_unit="iso")
    trace = read_requests(write(tmp_path / "requests.jsonl", text), how)
    lines = {row.line: row.message for row in trace.report.bad}
    assert sorted(lines) == [2, 3, 4, 5, 6]
    assert lines[2].startswith("not valid JSON")
    assert lines[3] == "input_tokens: '-1' is not a whole number of tokens (0 or more)"
    assert lines[4] == "arrival: 'yesterday' is not a time (iso)"
    assert lines[5] == "expected a JSON object, found list"
    assert lines[6] == "output_tokens: missing value"
    assert trace.input_tokens.tolist() == [10, 7]
    assert trace.arrival_s[1] - trace.arrival_s[0] == pytest.approx(3.0)


@settings(max_examples=40, deadline=None)
@given(kinds=st.lists(st.sampled_from(["good", "short", "long", "text", "blank", "negative"]), min_size=1,
                      max_size=60),
       block=st.sampled_from([64, 200, 1 << 20]))
def test_line_numbers_survive_any_block_size(tmp_path_factory: pytest.TempPathFactory, kinds: list[str],
                                             block: int) -> None:
    """Whatever the mix of bad rows and however the file is cut into blocks, each bad row is
    reported at its own line and every good row is kept, in order."""
    body = {"good": "{k},1,{k}", "short": "{k},1", "long": "{k},1,2,3", "text": "{k},x,5",
            "blank": "", "negative": "{k},1,-{k}"}
    text = "submit,gpus,duration\n" + "".join(body[kind].format(k=k + 1) + "\n" for k, kind in enumerate(kinds))
    path = tmp_path_factory.mktemp("blocks") / "jobs.csv"
    path.write_text(text)
    trace = read_jobs(path, block_bytes=block)
    expected_bad = {k + 2 for k, kind in enumerate(kinds) if kind in ("short", "long", "text", "negative")}
    assert {row.line for row in trace.report.bad} == expected_bad
    assert trace.report.bad_count == len(expected_bad)
    assert trace.report.left_out.get("blank line", 0) == kinds.count("blank")
    assert trace.submit_s.tolist() == [float(k + 1) for k, kind in enumerate(kinds) if kind == "good"]
    assert trace.report.kept + trace.report.bad_count + sum(trace.report.left_out.values()) == len(kinds)


def test_compressed_files_read_the_same(tmp_path: Path) -> None:
    import gzip

    text = "submit,gpus,duration\n0,1,10\n5,two,10\n9,1,3\n"
    with gzip.open(tmp_path / "jobs.csv.gz", "wt") as out:
        out.write(text)
    trace = read_jobs(tmp_path / "jobs.csv.gz")
    assert trace.submit_s.tolist() == [0.0, 9.0]
    assert [(row.line, row.message) for row in trace.report.bad] == [(3, "gpus: 'two' is not a number")]
