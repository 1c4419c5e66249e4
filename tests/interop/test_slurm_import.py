"""`gpufleet import slurm` on the Slurm files in ../shared/interop (configurations, topologies,
sacct dumps) and hand-written slurm.conf files for the topologies that come without one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.interop.scenario import write_import
from gpufleet.interop.slurm import import_slurm
from gpufleet.results.replay import compare_waits
from gpufleet.sim.load import load_scenario


def imported_and_run(tmp_path: Path, **options: object):  # noqa: ANN201
    imported = import_slurm(tmp_path / "cluster.yaml", **options)
    scenario = write_import(imported, tmp_path / "cluster.yaml", load_scenario)
    return imported, scenario, api.run(scenario, until=scenario.start + timedelta(days=1))


def shapes(scenario) -> list[tuple]:  # noqa: ANN001
    return [(pool.name, pool.gpu, pool.gpus_per_node, pool.nodes_per_rack, pool.racks_per_block,
             pool.deliveries[0].racks) for pool in scenario.fleet.pools]


def outcome(report, kind: str, field: str) -> tuple:  # noqa: ANN001
    (found,) = [row for row in report.fields if row["kind"] == kind and row["field"] == field]
    return found["mapped_to"] or found["not_modelled"], found["objects"]


def test_ubhpc_cluster(interop: Path, tmp_path: Path) -> None:
    slurm = interop / "slurm"
    imported, scenario, _ = imported_and_run(tmp_path, conf=slurm / "ubhpc-medium_slurm.conf",
                                             topology=slurm / "ubhpc-medium_topology.conf",
                                             gres=slurm / "ubhpc-medium_gres.conf")
    # gn[001-002]: 2 x P100 under switch IBN; g[001-008]: 2 x V100 under IBG; each node its own rack
    assert shapes(scenario) == [("tesla_p100-pcie-16gb", "tesla_p100-pcie-16gb", 2, 1, 2, 2),
                                ("tesla_v100-pcie-32gb", "tesla_v100-pcie-32gb", 2, 1, 8, 8)]
    spec = scenario.scheduler
    assert (spec.policy.name, spec.backfill.value, spec.max_job_test) == ("priority", "easy", 2500)
    assert [(q.name, q.tenants, q.nominal) for q in spec.queues] == [
        ("general-compute", ["general-compute", "*"], {"tesla_v100-pcie-32gb": 16}),
        ("debug", ["debug"], {"tesla_p100-pcie-16gb": 4})]
    assert [(c.name, c.value, c.teams) for c in spec.priority_classes] == [
        ("partition-general-compute", 100, ["general-compute"]), ("partition-debug", 700, ["debug"])]
    report = imported.report
    assert report.objects["nodes"] == 217 and report.objects["partitions"] == 2
    assert outcome(report, "NodeName", "gres") == ("GPUs per node and their type (fleet.pools[].gpu)", 2)
    assert outcome(report, "NodeName", "weight")[1] == 4
    assert outcome(report, "parameter", "preempttype")[0].startswith("preemption across partitions")
    assert outcome(report, "gres.conf", "count") == ("checked against slurm.conf's Gres", 2)
    assert outcome(report, "SwitchName", "nodes") == ("blocks (leaf switches) of nodes", 3)
    assert "the topology names 17 nodes that the cluster does not define: ignored" in report.notes
    names = {entry.pool: entry for entry in report.pools}
    assert names["tesla_v100-pcie-32gb"].racks == [f"g{k:03d}" for k in range(1, 9)]
    assert names["tesla_v100-pcie-32gb"].rack_blocks == ["IBG"] * 8


def test_parallelcluster_gpu_partition(interop: Path, tmp_path: Path) -> None:
    imported, scenario, _ = imported_and_run(
        tmp_path, conf=interop / "slurm" / "pcluster_slurm_parallelcluster_gpu_partition.conf")
    assert shapes(scenario) == [("m60", "m60", 2, 1, 5, 5), ("v100", "v100", 8, 1, 10, 10)]
    (queue,) = scenario.scheduler.queues
    assert (queue.name, queue.tenants, queue.nominal) == ("gpu", ["gpu", "*"], {"m60": 10, "v100": 80})
    assert outcome(imported.report, "NodeName", "state")[1] == 3  # State=CLOUD, not modelled
    assert outcome(imported.report, "NodeSet", "nodes")[0] == "partition node lists"


def test_topograph_blocks_are_racks(interop: Path, data: Path, tmp_path: Path) -> None:
    """12 blocks of 8 trays, BlockSizes=8,16,32: racks of 8 nodes, 4 racks (32 nodes) to a block.
    The urgent partition holds 2 of the racks: they become their own flavor."""
    imported, scenario, _ = imported_and_run(tmp_path, conf=data / "slurm-gb200.conf",
                                             topology=interop / "slurm" / "topograph_expected.slinky-dra-block.conf")
    assert shapes(scenario) == [("gb200@batch", "gb200@batch", 4, 8, 4, 10),
                                ("gb200@batch+urgent", "gb200@batch+urgent", 4, 8, 2, 2)]
    queues = {q.name: q.nominal for q in scenario.scheduler.queues}
    assert queues == {"batch": {"gb200@batch+urgent": 64, "gb200@batch": 320}, "urgent": {"gb200@batch+urgent": 64}}
    names = {entry.pool: entry for entry in imported.report.pools}
    assert names["gb200@batch+urgent"].racks == ["rack11", "rack12"]
    assert names["gb200@batch"].rack_name(0) == "rack21 (block rack11..rack22)"
    assert scenario.gpu_types["gb200@batch"].list_price_usd_per_gpu_hour == 10.58  # catalog GB200 by Gres type


def test_man_page_block_example(interop: Path, data: Path, tmp_path: Path) -> None:
    """4 blocks of 32 nodes, BlockSizes=30,120: each block a rack, 120 // 30 = 4 blocks aggregate."""
    _, scenario, _ = imported_and_run(tmp_path, conf=data / "slurm-nodes128.conf",
                                      topology=interop / "slurm" / "schedmd_topology.conf.5_block-example.conf")
    assert shapes(scenario) == [("gpu", "gpu", 4, 32, 4, 4)]


@pytest.mark.parametrize(("name", "expected", "note"), [
    (None, [("h100", "h100", 8, 1, 12, 16)], "topology/tree: 1 switches above the leaves are not modelled"),
    ("topo2", [("h100", "h100", 8, 4, 4, 4)], "topology/block: each of the 4 blocks is a gpufleet rack"),
    ("topo4", [("h100", "h100", 8, 1, 16, 16)], "topology topo4 is ring: not modelled"),
])
def test_topology_yaml(interop: Path, data: Path, tmp_path: Path, name: str | None, expected: list,
                       note: str) -> None:
    imported, scenario, _ = imported_and_run(tmp_path, conf=data / "slurm-nodes16.conf",
                                             topology=interop / "slurm" / "schedmd_topology.yaml.5_example.yaml",
                                             topology_name=name)
    assert shapes(scenario) == expected
    assert any(entry.startswith(note) for entry in imported.report.notes)
    assert scenario.scheduler.backfill.value == "none"  # sched/builtin


@pytest.mark.parametrize("name", ["ubhpc-medium_topology.conf", "schedmd_topology.yaml.5_example.yaml",
                                  "schedmd_topology.conf.5_block-example.conf",
                                  "topograph_expected.slinky-dra-block.conf"])
def test_a_topology_alone_is_refused(interop: Path, tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="give --conf slurm.conf, --sacct FILE, or both"):
        import_slurm(tmp_path / "x.yaml", topology=interop / "slurm" / name)


def test_gres_conf_alone_is_refused(interop: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--gres checks slurm.conf's GPU counts: give --conf too"):
        import_slurm(tmp_path / "x.yaml", gres=interop / "slurm" / "ubhpc-medium_gres.conf",
                     sacct=interop / "workloads" / "xdmod_phillips_sacct.log")


def test_sacct_dump_with_arrays_and_broken_rows(interop: Path, tmp_path: Path) -> None:
    imported, scenario, _ = imported_and_run(
        tmp_path, conf=interop / "slurm" / "ubhpc-medium_slurm.conf",
        sacct=interop / "workloads" / "slurm_sim_tools_sacct_dump2101.log", resource="cpu")
    jobs = imported.report.jobs
    assert (jobs["rows"], jobs["kept"], jobs["bad_rows"]) == (15, 8, 5)
    assert [row["line"] for row in jobs["bad_examples"]] == [12, 13, 14, 15, 16]
    # CPU nodes: 2 gn of 32 cores (partition debug), 87 n of 32 and 8 g + 96 m + 24 b of 40 (general-compute)
    assert [(p.gpu, p.gpus_per_node, p.deliveries[0].racks) for p in scenario.fleet.pools] == [
        ("cpu@debug", 32, 2), ("cpu@general-compute", 32, 87), ("cpu@general-compute", 40, 128)]
    with pytest.raises(InputError, match="no gpu capacity to simulate"):
        import_slurm(tmp_path / "y.yaml", sacct=interop / "workloads" / "slurm_sim_tools_sacct_dump2101.log")


def test_xdmod_history_replays_close_to_the_record(interop: Path, tmp_path: Path) -> None:
    """4,285 real jobs on a CPU cluster (no slurm.conf: nodes from NodeList). Replayed under FIFO with
    EASY backfill, the simulated waits follow the recorded ones (docs/interop.md explains the gap)."""
    imported = import_slurm(tmp_path / "phillips.yaml", sacct=interop / "workloads" / "xdmod_phillips_sacct.log",
                            resource="cpu")
    scenario = write_import(imported, tmp_path / "phillips.yaml", load_scenario)
    assert [q.nominal for q in scenario.scheduler.queues] == [{"cpu@focaccia": 23}, {"cpu@crumpet": 320},
                                                              {"cpu@black": 8}]
    result = api.run(scenario)
    (waits,) = compare_waits(scenario, result)["workloads"]
    assert waits["jobs"] == 4046 and waits["read"]["left_out"] == {"never ran in the trace (no run time)": 239}
    assert waits["ks"] < 0.13
    simulated, real = waits["simulated"]["median"], waits["real"]["median"]
    assert abs(simulated - real) / real < 0.03
    assert np.isclose(real, 14726.0)  # the recorded median wait: 4 h 5 min


@pytest.mark.parametrize(("text", "problem"), [
    ("NodeName=node[1-4 Gres=gpu:8\n", "slurm.conf:1: NodeName: hostlist 'node[1-4': '[' without ']'"),
    ("NodeName=n[1-2] Gres=gpu:eight\n", "slurm.conf:1: Gres: Gres 'gpu:eight': the GPU count is not a whole number"),
    ("NodeName=n1 Gres=gpu:8\nPartitionName=p Nodes=n[1-2]\n",
     "slurm.conf:2: Nodes: partition p: 1 nodes are not defined by a NodeName line (n2)"),
    ("SchedulerType=sched/wiki\n",
     "slurm.conf:1: SchedulerType='sched/wiki': expected sched/backfill or sched/builtin"),
    ("NodeName=n1 Gres=gpu:a100:4,gpu:h100:4\n", "two GPU types on one node"),
    ("NodeName n1\n", "slurm.conf:1: 'NodeName' is not Key=Value"),
])
def test_bad_slurm_conf(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "slurm.conf"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        import_slurm(tmp_path / "x.yaml", conf=path)
    assert problem in str(error.value)


def test_gres_conf_must_agree(interop: Path, tmp_path: Path) -> None:
    gres = tmp_path / "gres.conf"
    gres.write_text("NodeName=g[001-008] Name=gpu Count=4\n")
    with pytest.raises(InputError, match="node g001 has 4 GPUs in gres.conf but Gres gives 2"):
        import_slurm(tmp_path / "x.yaml", conf=interop / "slurm" / "ubhpc-medium_slurm.conf", gres=gres)
