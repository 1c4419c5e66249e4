"""`gpufleet import slurm`: slurm.conf, topology and a sacct dump -> a scenario, its job records, a report.

- Nodes (`NodeName ... Gres=gpu:N`) become pools by GPU type (the Gres type, else `gpu`)
  and shape; the topology places them in racks and blocks (slurm_topology).
- Each partition is a queue serving the jobs submitted to it (tenant = partition name;
  the Default=YES partition also serves jobs that name none), with a nominal quota of
  the GPUs of its nodes, so it never uses more than its nodes hold. Partition tiers
  (PriorityTier, or the older Priority) become priority classes when they differ.
- SchedulerType sched/backfill is EASY backfill (bf_max_job_test -> max_job_test),
  sched/builtin strict order; jobs go by partition tier, then submit time.
- The sacct dump becomes the job records the scenario replays (slurm_jobs); without
  slurm.conf the fleet is inferred from where the jobs ran.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from gpufleet.errors import InputError, Problem
from gpufleet.interop.pools import ClusterNode, build_pools
from gpufleet.interop.report import ImportReport
from gpufleet.interop.scenario import Imported, gpu_type_entry, header_comment, horizon, trace_workload
from gpufleet.interop.slurm_conf import SlurmConf, read_slurm_conf
from gpufleet.interop.slurm_jobs import RESOURCES, SacctRead, infer_nodes, read_jobs
from gpufleet.interop.slurm_topology import SlurmTopology, read_topology


def import_slurm(out: str | Path, conf: str | Path | None = None, topology: str | Path | None = None,
                 sacct: str | Path | None = None, gres: str | Path | None = None, name: str | None = None,
                 start: datetime | None = None, end: datetime | None = None, resource: str = "gpu",
                 topology_name: str | None = None) -> Imported:
    """Read a Slurm cluster's configuration and accounting into a scenario to be written at `out`."""
    if resource not in RESOURCES:
        raise InputError([Problem(f"--resource {resource!r}: choose gpu, cpu or node")])
    if conf is None and sacct is None:
        raise InputError([Problem("give --conf slurm.conf, --sacct FILE, or both")])
    if gres is not None and conf is None:
        raise InputError([Problem("--gres checks slurm.conf's GPU counts: give --conf too")])
    slurm = read_slurm_conf(conf, gres) if conf is not None else None
    topo = read_topology(topology, topology_name) if topology is not None else None
    unit_of = _units(slurm, resource) if slurm is not None else {}
    jobs = read_jobs(sacct, resource, slurm, {node: kind for node, (kind, _) in unit_of.items()}) \
        if sacct is not None else None
    records = jobs.records if jobs is not None else []
    notes: list[str] = []
    first, last, dated = horizon(records, start, end)
    notes += dated
    if slurm is not None:
        nodes = [ClusterNode(node, kind, units) for node, (kind, units) in unit_of.items()]
        members = {partition.name: partition.nodes for partition in slurm.partitions}
        notes += slurm.notes
    else:
        assert jobs is not None
        nodes, members, inferred = infer_nodes(jobs, resource)
        notes += inferred
    nodes = _split_by_partitions(nodes, members, notes)
    if topo is not None:
        nodes = _place(nodes, topo, notes)
    if slurm is not None and slurm.topology_plugin and topo is None and \
            slurm.topology_plugin not in ("topology/flat", "topology/default", "topology/none"):
        notes.append(f"TopologyPlugin={slurm.topology_plugin} but no --topology file: each node is its own rack, "
                     "one block per pool")
    source = f"{conf}" if conf is not None else f"nodes named in {sacct}"
    pools = build_pools(nodes, first, source, {"gpu": "GPU", "cpu": "CPU", "node": "node"}[resource])
    notes += pools.notes
    if not pools.specs:
        raise InputError([Problem(f"no {resource} capacity to simulate: no node has any "
                                  + ("GPUs (Gres=gpu:N)" if resource == "gpu" else f"{resource}s")
                                  + (" (--resource cpu replays a CPU cluster)" if resource == "gpu" else ""),
                                  file=str(conf or sacct))])
    cluster = name or (slurm.cluster if slurm is not None and slurm.cluster else Path(conf or sacct).stem)
    scheduler = _scheduler(slurm, members, {node.name: node for node in nodes}, notes)
    scenario: dict[str, Any] = {
        "name": cluster.replace("_", "-"),
        "description": "Slurm cluster imported from " + ", ".join(
            Path(path).name for path in (conf, topology, sacct) if path is not None) + " by gpufleet import slurm.",
        "start": first.date().isoformat() if first.time() == datetime.min.time() else first.isoformat(sep=" "),
        "end": last.date().isoformat() if last.time() == datetime.min.time() else last.isoformat(sep=" "),
        "seed": 0,
        "gpu_types": {spec["gpu"]: gpu_type_entry(spec["gpu"], spec["gpus_per_node"],
                                                  spec["gpus_per_node"] * spec["nodes_per_rack"],
                                                  spec["deliveries"][0]["source"], spec["gpu"])
                      for spec in reversed(pools.specs)},
        "fleet": {"pools": pools.specs},
    }
    if records:
        scenario["workloads"] = [trace_workload(f"{scenario['name']}-jobs", Path(out))]
    scenario["scheduler"] = scheduler
    if jobs is not None:
        notes += jobs.notes
    report = ImportReport("slurm", [str(path) for path in (conf, gres, topology, sacct) if path is not None],
                          _objects(slurm, topo, jobs), _fields(slurm, topo), notes,
                          jobs.report.to_dict() if jobs is not None else None, pools.names)
    return Imported(scenario, records, report, header_comment(report, "gpufleet import slurm"))


def _units(slurm: SlurmConf, resource: str) -> dict[str, tuple[str, int]]:
    """Per node, (unit type, units): its GPUs (by Gres type), CPUs or 1 node."""
    out = {}
    for name, node in slurm.nodes.items():
        if resource == "gpu":
            out[name] = (node.gpu_type or "gpu", node.gpus)
        elif resource == "cpu":
            out[name] = ("cpu", node.cpus)
        else:
            out[name] = ("node", 1)
    return out


def _split_by_partitions(nodes: list[ClusterNode], members: dict[str, list[str]],
                         notes: list[str]) -> list[ClusterNode]:
    """Nodes of one GPU type that serve different sets of partitions become different flavors
    (`type@partition+partition`), so each partition's quota covers exactly its own nodes."""
    serving: dict[str, set[str]] = {}
    for partition, names in members.items():
        for name in names:
            serving.setdefault(name, set()).add(partition)
    sets: dict[str, set[frozenset[str]]] = {}
    for node in nodes:
        sets.setdefault(node.flavor, set()).add(frozenset(serving.get(node.name, ())))
    split = sorted(flavor for flavor, found in sets.items() if len(found) > 1)
    if not split:
        return nodes
    notes.append(f"GPU types {', '.join(split)} serve different partitions on different nodes: each is split into "
                 "flavors per set of partitions (type@partition+...), so a partition's quota covers its own nodes")
    out = []
    for node in nodes:
        if node.flavor in split:
            parts = sorted(serving.get(node.name, ())) or ["no-partition"]
            node = ClusterNode(node.name, f"{node.flavor}@{'+'.join(parts)}", node.gpus, node.block, node.rack)
        out.append(node)
    return out


def _place(nodes: list[ClusterNode], topo: SlurmTopology, notes: list[str]) -> list[ClusterNode]:
    placed, missing = [], 0
    for node in nodes:
        block, rack = topo.place.get(node.name, (None, None))
        if node.name not in topo.place:
            missing += 1
        placed.append(ClusterNode(node.name, node.flavor, node.gpus, block, rack))
    extra = len(set(topo.place) - {node.name for node in nodes})
    notes += topo.notes
    if missing:
        notes.append(f"{missing} nodes are in no block or switch of the topology: each is its own rack, in a block "
                     "of its own kind")
    if extra:
        notes.append(f"the topology names {extra} nodes that the cluster does not define: ignored")
    return placed


def _scheduler(slurm: SlurmConf | None, members: dict[str, list[str]], nodes: dict[str, ClusterNode],
               notes: list[str]) -> dict[str, Any]:
    partitions = slurm.partitions if slurm is not None else []
    tiers = {partition.name: partition.tier or 0 for partition in partitions}
    default = next((partition.name for partition in partitions if partition.default), None)
    queues = []
    for partition, names in members.items():
        nominal: dict[str, int] = {}
        for node in names:
            found = nodes.get(node)
            if found is not None and found.gpus > 0:
                nominal[found.flavor] = nominal.get(found.flavor, 0) + found.gpus
        if not nominal:
            notes.append(f"partition {partition} has no nodes with the scheduled unit: its jobs cannot run")
        queues.append({"name": partition, "tenants": [partition] + (["*"] if partition == default else []),
                       "nominal": nominal})
    scheduler: dict[str, Any] = {"policy": "fifo", "backfill": "easy"}
    if slurm is not None:
        scheduler["backfill"] = "easy" if slurm.scheduler_type == "sched/backfill" else "none"
        if slurm.max_job_test is not None:
            scheduler["max_job_test"] = slurm.max_job_test
    if len(set(tiers.values())) > 1:
        scheduler["policy"] = "priority"
        scheduler["priority_classes"] = [{"name": f"partition-{name}", "value": tier, "teams": [name]}
                                         for name, tier in tiers.items()]
    if queues:
        scheduler["queues"] = queues
        if not any("*" in queue["tenants"] for queue in queues):
            queues[0]["tenants"].append("*")
            notes.append(f"no Default=YES partition: {queues[0]['name']} serves jobs that name no partition")
    return scheduler


def _objects(slurm: SlurmConf | None, topo: SlurmTopology | None, jobs: SacctRead | None) -> dict[str, int]:
    objects: dict[str, int] = {}
    if slurm is not None:
        objects.update({f"slurm.conf {kind} lines": count for kind, count in slurm.lines.items()})
        objects["nodes"] = len(slurm.nodes)
        objects["partitions"] = len(slurm.partitions)
    if topo is not None:
        objects[f"topology ({topo.kind}) nodes placed"] = len(topo.place)
    if jobs is not None:
        objects["sacct rows"] = jobs.report.rows
    return objects


def _fields(slurm: SlurmConf | None, topo: SlurmTopology | None) -> list[dict[str, Any]]:
    rows = slurm.tally.rows() if slurm is not None else []
    if topo is not None:
        rows += topo.tally.rows()
    return rows
