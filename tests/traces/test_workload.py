"""A trace as a scenario workload: hand-worked replays, window, scaling, repetition, what is left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.sim.load import parse_scenario
from gpufleet.spec.scenario import Scenario
from gpufleet.testing import small_fleet
from gpufleet.workload.trace import largest_divisor_at_most, trace_jobs

JOBS = """name,submit,gpus,duration,team
j1,0,4,3600,alpha
j2,60,4,1800,beta
j3,120,4,600,
j4,90000,8,100,alpha
"""


def scenario(trace: dict[str, Any], *, fleet: dict[str, Any] | None = None, backfill: bool = False,
             **extra: Any) -> Scenario:
    data = {"name": "trace-test", "start": "2026-01-01", "end": "2026-01-05", "seed": 1,
            "fleet": fleet or small_fleet(racks=2, gpus_per_node=4, nodes_per_rack=1),
            "workloads": [{"trace": {"name": "t", **trace}}],
            "scheduler": {"policy": "fifo", "backfill": backfill}, **extra}
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), source="<test>")


def waits(spec: Scenario) -> dict[str, float]:
    jobs = api.run(spec).jobs
    return dict(zip(jobs["name"].to_pylist(), jobs["wait_s"].to_pylist(), strict=True))


@pytest.fixture
def jobs_csv(tmp_path: Path) -> Path:
    path = tmp_path / "jobs.csv"
    path.write_text(JOBS)
    return path


def test_a_hand_worked_replay(jobs_csv: Path) -> None:
    # Two racks of 4 GPUs. j1 and j2 take both; j3 waits for j2's end (60 + 1800 s); j4 (8 GPUs,
    # a day later) spans both racks in groups of 4 GPUs.
    spec = scenario({"format": "generic-jobs", "path": str(jobs_csv), "group_size": 4})
    assert waits(spec) == {"j1": 0.0, "j2": 0.0, "j3": 1740.0, "j4": 0.0}
    jobs = api.run(spec).jobs
    assert jobs["team"].to_pylist() == ["alpha", "beta", "t", "alpha"]
    assert jobs["group_size"].to_pylist() == [4, 4, 4, 4] and jobs["kind"].to_pylist() == ["trace"] * 4


def test_time_scale_size_scale_and_start(jobs_csv: Path) -> None:
    base = {"format": "generic-jobs", "path": str(jobs_csv), "group_size": 4}
    # Arrivals twice as far apart: j2 ends at 120 + 1800, j3 arrives at 240.
    assert waits(scenario({**base, "time_scale": 2.0}))["j3"] == 1680.0
    # Half the GPUs: everything fits at once.
    assert set(waits(scenario({**base, "size_scale": 0.5})).values()) == {0.0}
    # The trace starts a day into the scenario; a duration_scale of 2 makes j2 last 3,600 s.
    spec = scenario({**base, "start": "2026-01-02", "duration_scale": 2.0})
    jobs = api.run(spec).jobs
    assert jobs["submit_s"].to_pylist()[:3] == [86400.0, 86460.0, 86520.0]
    assert dict(zip(jobs["name"].to_pylist(), jobs["wait_s"].to_pylist(), strict=True))["j3"] == 3540.0


def test_window_and_repeat(jobs_csv: Path) -> None:
    base = {"format": "generic-jobs", "path": str(jobs_csv), "group_size": 4}
    windowed = trace_jobs(scenario({**base, "window": {"start_days": 0.0005, "end_days": 1}}).workloads[0].trace,
                          scenario(base))
    assert windowed.names == ["j2", "j3"] and windowed.report.left_out == {"submitted outside the window": 2}
    assert windowed.parts[0].submit_s.tolist() == [60.0 - 43.2, 120.0 - 43.2]  # the window starts at 43.2 s
    # Repeat a one-day window three times: copies one day apart, names marked by copy.
    spec = scenario({**base, "window": {"end_days": 1}, "repeat": 3})
    replayed = trace_jobs(spec.workloads[0].trace, spec)
    assert replayed.names == [f"j{k}#{copy}" for copy in range(3) for k in (1, 2, 3)]
    assert replayed.parts[0].submit_s.tolist() == [t + copy * 86400.0 for copy in range(3) for t in (0, 60, 120)]
    # Copies of the whole trace come 90,000 s (its span) + 30,000 s (one mean gap) apart: the
    # fourth, at 360,000 s, starts after the scenario's 4 days (345,600 s).
    spec = scenario({**base, "repeat": 4})
    replayed = trace_jobs(spec.workloads[0].trace, spec)
    assert replayed.report.left_out == {"arrives after the scenario end": 4}
    assert replayed.names[-1] == "j4#2" and replayed.parts[0].submit_s[-1] == 2 * 120_000.0 + 90_000.0


def test_cpu_only_never_ran_and_sharing_pods_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "pods.csv"
    path.write_text(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
        "scheduled_time\n"
        "cpu,1000,1024,0,0,,LS,Running,0,100,0\n"
        "share,1000,1024,1,300,,LS,Running,10,100,10\n"
        "pending,1000,1024,1,1000,,LS,Pending,20,100,\n"
        "whole,1000,1024,2,1000,T4,LS,Succeeded,30,100,31\n")
    fleet = small_fleet(racks=2, gpus_per_node=4, nodes_per_rack=1, gpu="T4")
    extra = {"gpu_types": {"T4": {"gpus_per_node": 4, "nvlink_domain_gpus": 4, "source": "test"}}}
    spec = scenario({"format": "alibaba-openb", "path": str(path)}, fleet=fleet, **extra)
    replayed = trace_jobs(spec.workloads[0].trace, spec)
    assert replayed.names == ["share", "whole"]
    assert replayed.report.left_out == {"CPU-only job (no GPU to place)": 1, "never ran in the trace (no run time)": 1}
    assert replayed.notes == ["1 GPU-sharing pods each take a whole GPU (the simulator places whole GPUs)"]
    assert [part.flavors for part in replayed.parts] == [None, ("T4",)]
    assert [part.group.tolist() for part in replayed.parts] == [[1], [2]]
    assert replayed.real_wait_s.tolist() == [0.0, 1.0]
    skip = scenario({"format": "alibaba-openb", "path": str(path), "gpu_sharing": "skip"}, fleet=fleet, **extra)
    replayed = trace_jobs(skip.workloads[0].trace, skip)
    assert replayed.names == ["whole"] and replayed.report.left_out["GPU-sharing pod (gpu_sharing: skip)"] == 1


def test_nvlink_group_is_the_largest_divisor_under_the_cap() -> None:
    gpus = np.array([1, 2, 6, 8, 12, 16, 7, 9])
    assert largest_divisor_at_most(gpus, 8).tolist() == [1, 2, 6, 8, 6, 8, 7, 3]


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        api.load(path)
    return [str(problem) for problem in caught.value.problems]


BASE = """name: bad
start: 2026-01-01
end: 2026-02-01
fleet:
  pools:
    - {name: lab, gpu: H100, gpus_per_node: 4, nodes_per_rack: 1, deliveries: [{date: 2026-01-01, nodes: 2}]}
workloads:
  - trace:
      name: t
"""


def test_scenario_errors_name_the_line(tmp_path: Path, jobs_csv: Path) -> None:
    scenario_file = tmp_path / "scenario.yaml"
    missing = tmp_path / "missing.csv"
    assert problems(BASE + f"      format: generic-jobs\n      path: {missing}\n", tmp_path) == [
        f"{scenario_file}:11: workloads[0].trace.path: trace file not found: {missing}"]
    text = BASE + f"      format: generic-jobs\n      path: {jobs_csv}\n      columns: {{gpus: n_gpus}}\n"
    assert problems(text, tmp_path) == [
        f"{scenario_file}:12: workloads[0].trace.columns.gpus: no column 'n_gpus' in {jobs_csv} "
        "(the header has: name, submit, gpus, duration, team)"]
    text = BASE + f"      format: alibaba-openb\n      path: {jobs_csv}\n      time_unit: ms\n"
    assert problems(text, tmp_path) == [
        f"{scenario_file}:8: workloads[0].trace: only generic-jobs takes time_unit (alibaba-openb has a fixed layout)"]
    text = BASE + (f"      format: generic-jobs\n      path: {jobs_csv}\n      start: 2025-12-01\n"
                   "      flavors: [B200]\n      estimate: time_limit\n")
    found = problems(text, tmp_path)
    assert f"{scenario_file}:12: workloads[0].trace.start: starts 2025-12-01 00:00:00 before the scenario " \
           "(2026-01-01 00:00:00)" in found
    assert f"{scenario_file}:13: workloads[0].trace.flavors[0]: no pool has GPU type 'B200' (the fleet has: H100)" \
        in found
    assert f"{scenario_file}:14: workloads[0].trace.estimate: estimate time_limit needs time_limit_hours" in found
    assert problems(BASE + "      format: generic-jobs\n      path: x.csv\n      time_unit: fortnights\n", tmp_path
                    )[0].startswith(f"{scenario_file}:12: workloads[0].trace.time_unit: unknown time unit")


def test_a_relative_path_follows_the_scenario_file_when_the_loader_says_which(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "jobs.csv").write_text(JOBS)
    data = yaml.safe_load(BASE + "      format: generic-jobs\n      path: data/jobs.csv\n")
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text("")
    spec = Scenario.model_validate(data, context={"source": str(scenario_file)})
    assert spec.workloads[0].trace.path == str(tmp_path / "data" / "jobs.csv")
    assert Scenario.model_validate(data).workloads[0].trace.path == "data/jobs.csv"  # no context: as written
    data["workloads"][0]["trace"]["path"] = "elsewhere/jobs.csv"  # not beside the scenario: left as written
    spec = Scenario.model_validate(data, context={"source": str(scenario_file)})
    assert spec.workloads[0].trace.path == "elsewhere/jobs.csv"


def test_strict_makes_a_bad_row_fail_the_run(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(JOBS + "j5,oops,1,10,\n")
    loose = scenario({"format": "generic-jobs", "path": str(path), "group_size": 4})
    replayed = trace_jobs(loose.workloads[0].trace, loose)
    assert replayed.report.bad_count == 1 and len(replayed.names) == 4
    strict = scenario({"format": "generic-jobs", "path": str(path), "group_size": 4, "strict": True})
    with pytest.raises(InputError, match=rf"{path}:6: submit: 'oops' is not a time \(s\)"):
        api.run(strict)


def test_the_openb_replay_builtin(shared: Path) -> None:
    """The built-in replays openb on its own fleet: every GPU pod that ran is replayed, the rest counted."""
    from gpufleet.results.replay import compare_waits, with_time_scale
    from gpufleet.traces.openb import read_pods

    spec = api.load("openb-replay")
    result = api.run(spec)
    comparison = compare_waits(spec, result)["workloads"][0]
    assert comparison["jobs"] == 6203 == result.jobs.num_rows
    assert comparison["read"]["left_out"] == {"CPU-only job (no GPU to place)": 1088,
                                              "never ran in the trace (no run time)": 861}
    assert comparison["real"]["median"] == 2.0 and comparison["real_share_waiting"] == pytest.approx(0.690, abs=1e-3)
    # The traced pods never hold more than 71 of the fleet's 6,212 GPUs: no pod waits for GPUs in the replay,
    # not even with arrivals 10,000 times as dense.
    pods = read_pods(shared / "traces" / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv")
    ran = (pods.gpus > 0) & np.isfinite(pods.duration_s)
    start = pods.submit_s[ran] + pods.wait_s[ran]
    times = np.concatenate([start, start + pods.duration_s[ran]])
    change = np.concatenate([pods.gpus[ran], -pods.gpus[ran]])
    held = np.cumsum(change[np.lexsort((change, times))])
    assert held.max() == 71 and pods.gpus[ran].sum() == 6571
    assert comparison["simulated"]["max"] == 0.0
    assert result.summary["jobs"]["completed"] == 6203
    dense = with_time_scale(spec, 0.0001)
    assert compare_waits(dense, api.run(dense))["workloads"][0]["simulated"]["max"] == 0.0
