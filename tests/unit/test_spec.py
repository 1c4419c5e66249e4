"""Scenario loading: what is accepted, and bad input named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.scenarios import builtin_names
from gpufleet.sim.load import load_scenario

GOOD = """\
name: lab
start: 2026-01-01
end: 2026-02-01
fleet:
  pools:
    - name: lab
      gpu: H100
      gpus_per_node: 4
      nodes_per_rack: 1
      deliveries:
        - {date: 2026-01-01, nodes: 2}
        - {date: 2026-01-10, nodes: 2}
workloads:
  - jobs:
      name: runs
      items:
        - {name: a, gpus: 4, duration_hours: 5}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return [str(problem) for problem in caught.value.problems]


def test_a_small_research_cluster_is_short_to_write(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(GOOD)
    scenario = load_scenario(path)
    assert scenario.fleet.pools[0].deliveries[1].nodes == 2


def test_every_builtin_scenario_loads() -> None:
    assert "openai-aws-2025" in builtin_names()
    for name in builtin_names():
        assert api.load(name).name == name


def test_unknown_key(tmp_path: Path) -> None:
    text = GOOD.replace("      gpu: H100\n", "      gpu: H100\n      gpu_count: 8\n")
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:8: fleet.pools[0].gpu_count: unknown key "
        "(check the spelling; `gpufleet schema` lists the keys)"
    ]


def test_wrong_type(tmp_path: Path) -> None:
    text = GOOD.replace("gpus: 4, duration_hours: 5", "gpus: four, duration_hours: 5")
    [message] = problems(tmp_path, text)
    assert message.startswith(f"{tmp_path}/scenario.yaml:17: workloads[0].jobs.items[0].gpus: ")
    assert "integer" in message and "'four'" in message


def test_negative_count(tmp_path: Path) -> None:
    text = GOOD.replace("{date: 2026-01-10, nodes: 2}", "{date: 2026-01-10, nodes: -2}")
    [message] = problems(tmp_path, text)
    assert message.startswith(f"{tmp_path}/scenario.yaml:12: fleet.pools[0].deliveries[1].nodes: ")
    assert "greater than 0" in message


def test_job_larger_than_the_fleet(tmp_path: Path) -> None:
    text = GOOD.replace("gpus: 4, duration_hours: 5", "gpus: 32, duration_hours: 5, group_size: 4")
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:17: workloads[0].jobs.items[0].gpus: never fits: needs 32 GPUs in NVLink "
        "groups of 4; the most any eligible pool (lab) ever offers is 16"
    ]


def test_a_group_larger_than_every_nvlink_domain_is_named_as_the_cause(tmp_path: Path) -> None:
    text = GOOD.replace("gpus: 4, duration_hours: 5", "gpus: 16, duration_hours: 5, group_size: 8")
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:17: workloads[0].jobs.items[0].gpus: never fits: its NVLink groups of 8 GPUs "
        "are larger than any eligible pool's NVLink domain (GPUs placeable per rack: lab 4)"
    ]


def test_impossible_dates_and_bytes_that_are_not_text_name_their_line(tmp_path: Path) -> None:
    text = GOOD.replace("end: 2026-02-01", "end: 2026-02-05T25:00:00")
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:3: end: 2026-02-05T25:00:00 is not a real date-time (hour must be in 0..23)"]
    text = GOOD.replace("{date: 2026-01-10, nodes: 2}", "{date: 2026-02-30, nodes: 2}")
    assert problems(tmp_path, text) == [f"{tmp_path}/scenario.yaml:12: fleet.pools[0].deliveries[1].date: "
                                        "2026-02-30 is not a real date-time (day is out of range for month)"]
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: x\nstart: 2026-01-01\n\xff\xfe\x00binary")
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3: not UTF-8 text: byte 0xff at offset 26 (a scenario is a YAML text file)"]


def test_date_out_of_order(tmp_path: Path) -> None:
    text = GOOD.replace("{date: 2026-01-10, nodes: 2}", "{date: 2025-12-10, nodes: 2}")
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:12: fleet.pools[0].deliveries[1].date: 2025-12-10 comes before the "
        "previous entry's 2026-01-01: list them in date order"
    ]


def test_nodes_that_do_not_make_whole_racks(tmp_path: Path) -> None:
    text = GOOD.replace("nodes_per_rack: 1", "nodes_per_rack: 2").replace(
        "{date: 2026-01-10, nodes: 2}", "{date: 2026-01-10, nodes: 3}")
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:12: fleet.pools[0].deliveries[1].nodes: 3 nodes is not a whole number "
        "of racks of 2 nodes"
    ]


def test_spares_that_leave_no_node_for_work(tmp_path: Path) -> None:
    text = GOOD.replace("nodes_per_rack: 1", "nodes_per_rack: 2") + "failures:\n  spares: {nodes_per_rack: 2}\n"
    assert problems(tmp_path, text) == [
        f"{tmp_path}/scenario.yaml:19: failures.spares.nodes_per_rack: 2 spare nodes per rack leave no node for "
        "work in pool lab (racks of 2 nodes): at most 1"
    ]
    (tmp_path / "fine.yaml").write_text(text.replace("spares: {nodes_per_rack: 2}", "spares: {nodes_per_rack: 1}"))
    assert load_scenario(tmp_path / "fine.yaml").failures.spares.nodes_per_rack == 1  # one node left: accepted


def test_unknown_gpu_and_policy_are_listed_with_the_choices(tmp_path: Path) -> None:
    text = GOOD.replace("gpu: H100", "gpu: H900") + "scheduler: {policy: lottery}\n"
    found = problems(tmp_path, text)
    assert any(":7: fleet.pools[0].gpu: unknown GPU type 'H900'; known: B200, GB200, GB300, H100, H200" in m
               for m in found)
    assert any("scheduler.policy: unknown policy 'lottery'; choose one of: drf, fgf, fgf_preemptive, fifo, gavel_las, "
               "gavel_las_agnostic, las, priority, sjf, srsf, srtf" in m for m in found)


def test_not_yaml(tmp_path: Path) -> None:
    [message] = problems(tmp_path, "name: [unclosed\n")
    assert message.startswith(f"{tmp_path}/scenario.yaml:2: not valid YAML")
