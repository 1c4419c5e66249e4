"""Every crash the fuzzing found, kept as a case that must now end cleanly."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fuzz import targets

FAULT = {"node_id": "a", "event_time": 1.5, "event_type": "fault_start",
         "fault_type": {"Level": "Hardware Failure", "Class": "GPU", "Desc": "x"}}


def _faults(tmp_path: Path, *records: dict) -> str:
    good = [{**FAULT, "node_id": f"n{i}", "event_time": 1.0 + i + 0.5 * end, "event_type": kind}
            for i in range(40) for end, kind in enumerate(("fault_start", "fault_end"))]
    return targets.faults_case(json.dumps([*good, *records]).encode(), tmp_path)


def test_a_fault_time_beyond_any_float(tmp_path: Path) -> None:
    """event_time 2**64 (and 10**400): numpy's isfinite raised TypeError on the huge integer."""
    assert _faults(tmp_path, {**FAULT, "event_time": 2**64}) == "ok"  # the bad row is counted, the rest fitted
    assert _faults(tmp_path, {**FAULT, "event_time": 10**400}) == "ok"


def test_a_server_name_that_is_not_text(tmp_path: Path) -> None:
    assert _faults(tmp_path, {**FAULT, "node_id": ["a", "b"]}) == "ok"


def test_times_and_counts_beyond_reason_are_bad_rows(tmp_path: Path) -> None:
    """A submit time of 1e19 s made the hour-of-day exposure loop forever (a bin's edge
    rounded onto the time), and 1e29 GPUs was cast to int64 as garbage."""
    rows = "".join(f"{i * 600},1,3600\n" for i in range(20))
    data = f"submit,gpus,duration\n{rows}9818766000000000000,1,5\n30,100000000000000000000000000000,50\n".encode()
    assert targets.trace_case("generic-jobs", data, ".csv", tmp_path, []) == "ok"
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["read"]["bad_rows"] == 2 and stats["jobs"] == 20


def test_an_infinite_weight_is_refused_at_its_line(tmp_path: Path) -> None:
    """A size weight of .inf passed validation and the run died in numpy ('Probabilities contain NaN')."""
    from gpufleet.scenarios import builtin_path

    text = builtin_path("research-lab").read_text().replace("weight: 0.6", "weight: .inf")  # type: ignore[union-attr]
    assert targets.scenario_case(text.encode(), tmp_path, run=True) == "error"
    assert text.splitlines()[25].strip().startswith("- {gpus: 1, weight: .inf")


def test_a_truncated_or_instant_fault_trace(tmp_path: Path) -> None:
    """'[' passed as an empty trace and then failed to print (None rate); one event at day 0
    divided by zero server-days."""
    assert targets.trace_case("stepfun-faults", b"[", ".json", tmp_path, ["--servers", "400"]) == "error"
    one = json.dumps([{**FAULT, "event_time": 0}]).encode()
    (tmp_path / "b").mkdir()
    assert targets.trace_case("stepfun-faults", one, ".json", tmp_path / "b", ["--servers", "400"]) == "ok"


def test_a_sacct_row_with_a_broken_time_limit_adds_nothing(tmp_path: Path) -> None:
    """The row's time limit was parsed after half its columns were appended: the columns then
    differed in length and the statistics died in pyarrow ('expected length 1 but got length 2')."""
    lines = (targets.SHARED / "interop" / "workloads" / "slurm_sim_tools_sacct_dump2101.log").read_text().splitlines()
    header = lines[0].split("|")
    limit = header.index("Timelimit")
    broken = lines[3].split("|")
    broken[limit] = "2-00:00:0x0"
    data = "\n".join([lines[0], lines[2], "|".join(broken), lines[4]]) + "\n"
    assert targets.trace_case("slurm-sacct", data.encode(), ".log", tmp_path, []) == "ok"
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["read"]["bad_rows"] == 1
