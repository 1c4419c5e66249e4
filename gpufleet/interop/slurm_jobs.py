"""A `sacct -P` dump as job records, and, without a slurm.conf, the nodes the jobs ran on.

The scheduled unit is a GPU (`gres/gpu` of AllocTRES, else ReqTRES), or with
`resource="cpu"` a CPU (NCPUS) or with `resource="node"` a whole node (NNodes), so a
CPU cluster's history can be replayed too. A job's per-node share (units / NNodes)
must stay on one node. A `Partition_Limit` time limit is the partition's MaxTime.

Without slurm.conf the fleet is inferred: every node named in a NodeList, holding the
most units the record ever shows running on it at once (a lower bound on its size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.interop import hostlist
from gpufleet.interop.pools import ClusterNode, natural_key
from gpufleet.interop.records import JobRecord
from gpufleet.interop.slurm_conf import SlurmConf
from gpufleet.spec.workload import TraceColumns
from gpufleet.traces.report import ReadReport
from gpufleet.traces.sacct import field_names, read_sacct
from gpufleet.traces.tables import JobTrace

RESOURCES = ("gpu", "cpu", "node")
UNKNOWN_PARTITION = "partition not in slurm.conf"


@dataclass
class SacctRead:
    records: list[JobRecord]
    report: ReadReport
    trace: JobTrace
    notes: list[str] = field(default_factory=list)


def read_jobs(path: str | Path, resource: str, conf: SlurmConf | None, unit_type: dict[str, str]) -> SacctRead:
    """Job records of a sacct dump; `unit_type`: per node, the GPU type (flavor) its units are."""
    trace = read_sacct(path, _columns(path, resource))
    partitions = {partition.name: partition for partition in conf.partitions} if conf is not None else {}
    types = set(unit_type.values())
    notes: list[str] = []
    report = trace.report
    records = []
    names = trace.names.to_pylist() if trace.names is not None else [f"job-{k}" for k in range(len(trace))]
    teams = trace.team.to_pylist() if trace.team is not None else [None] * len(trace)
    qos = trace.priority.to_pylist() if trace.priority is not None else [None] * len(trace)
    status = trace.status.to_pylist() if trace.status is not None else [None] * len(trace)
    partition_limits = 0
    for k in range(len(trace)):
        partition = (teams[k] or "").split(",")[0] or None
        if partitions and partition not in partitions:
            report.leave_out(UNKNOWN_PARTITION, 1)
            continue
        limit = float(trace.time_limit_s[k]) if trace.time_limit_s is not None else math.nan
        if math.isnan(limit) and partition in partitions and partitions[partition].max_time_s is not None:
            limit = partitions[partition].max_time_s  # type: ignore[assignment]
            partition_limits += 1
        start = float(trace.submit_s[k] + trace.wait_s[k]) if np.isfinite(trace.wait_s[k]) else None
        end = start + float(trace.duration_s[k]) if start is not None and np.isfinite(trace.duration_s[k]) else None
        if start is None and trace.withdrawn_s is not None and np.isfinite(trace.withdrawn_s[k]):
            end = float(trace.withdrawn_s[k])  # it left the queue then, without starting
        flavor = trace.flavors[k] if trace.flavors is not None else None
        records.append(JobRecord(
            name=str(names[k]), team=partition or "default", gpus=int(trace.gpus[k]), submit=float(trace.submit_s[k]),
            start=start, end=end, gpus_per_group=int(trace.group[k]) or None if trace.group is not None else None,
            time_limit_s=limit if math.isfinite(limit) else None,
            gpu_types=flavor if flavor and set(flavor) <= types else None, queue=partition,
            priority=qos[k], status=status[k]))
    if partition_limits:
        notes.append(f"{partition_limits} jobs with Timelimit Partition_Limit take their partition's MaxTime")
    if resource != "gpu":
        notes.append(f"the scheduled unit is a {resource} (--resource {resource}): jobs ask for "
                     f"{'NCPUS' if resource == 'cpu' else 'NNodes'} of them and nodes hold theirs; gpufleet calls "
                     "them GPUs in its outputs")
    return SacctRead(records, report, trace, notes)


def _columns(path: str | Path, resource: str) -> TraceColumns | None:
    if resource not in RESOURCES:
        raise InputError([Problem(f"--resource {resource!r}: choose gpu, cpu or node")])
    if resource == "gpu":
        return None
    lower = {name.lower(): name for name in field_names(path)}
    choices = ("ncpus", "alloccpus") if resource == "cpu" else ("nnodes", "allocnodes")
    column = next((lower[name] for name in choices if name in lower), None)
    if column is None:
        raise InputError([Problem(f"--resource {resource}: the dump has no {' or '.join(choices)} field",
                                  file=str(path))])
    return TraceColumns.model_validate({"gpus": column})


def infer_nodes(read: SacctRead, unit: str) -> tuple[list[ClusterNode], dict[str, list[str]], list[str]]:
    """(nodes, partition -> nodes its jobs ran on, notes) from the jobs' NodeLists and units."""
    trace = read.trace
    if trace.nodes is None:
        raise InputError([Problem("no slurm.conf and no NodeList field in the dump: the fleet cannot be inferred",
                                  file=read.report.path)])
    events: dict[str, list[tuple[float, int]]] = {}
    partitions: dict[str, set[str]] = {}
    kinds: dict[str, set[str]] = {}
    teams = trace.team.to_pylist() if trace.team is not None else [None] * len(trace)
    for k, text in enumerate(trace.nodes):
        if not text or text.lower() == "none assigned" or not np.isfinite(trace.wait_s[k]):
            continue
        try:
            names = hostlist.expand(text)
        except ValueError as exc:
            raise InputError([Problem(f"NodeList of job {k + 1}: {exc}", file=read.report.path)]) from None
        share = int(trace.group[k]) if trace.group is not None and trace.group[k] > 0 else \
            math.ceil(int(trace.gpus[k]) / len(names))
        begin = float(trace.submit_s[k] + trace.wait_s[k])
        finish = begin + float(trace.duration_s[k]) if np.isfinite(trace.duration_s[k]) else math.inf
        partition = (teams[k] or "default").split(",")[0]
        flavor = trace.flavors[k][0] if trace.flavors is not None and trace.flavors[k] else unit
        for name in names:
            partitions.setdefault(partition, set()).add(name)
            kinds.setdefault(name, set()).add(flavor)
            if share > 0:
                events.setdefault(name, []).extend([(begin, share), (finish, -share)])
    nodes = []
    for name in sorted(set().union(*partitions.values()) if partitions else set(), key=natural_key):
        busy = peak = 0
        for _, delta in sorted(events.get(name, []), key=lambda event: (event[0], event[1])):
            busy += delta
            peak = max(peak, busy)
        flavor = sorted(kinds[name])[0] if len(kinds[name]) == 1 else unit
        if peak > 0:
            nodes.append(ClusterNode(name, flavor, peak))
    notes = [f"no slurm.conf: the fleet is the {len(nodes)} nodes the jobs ran on, each as large as the most "
             f"{unit}s the record shows running on it at once (a lower bound)"]
    return nodes, {name: sorted(members, key=natural_key) for name, members in partitions.items()}, notes
