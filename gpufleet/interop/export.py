"""A scenario back in the cluster's own format: the subset gpufleet models.

Kueue (one multi-document YAML, v1beta2): a ResourceFlavor per GPU type, one Topology
(block, rack, hostname levels), the nodes (kind Node, GPUs as allocatable
`nvidia.com/gpu`, labelled with flavor, block and rack), ClusterQueues (quota, limits,
strategy, preemption, fair-sharing weight), Cohorts (parents; quota of the tenant-less
`cohort/NAME` queues), LocalQueues (tenants `namespace/name`), WorkloadPriorityClasses,
and a Configuration when fair sharing (drf) is on.

Slurm (slurm.conf and topology.conf): NodeName lines with Gres, a partition per queue
holding the nodes of the GPU types it has quota for (PriorityTier from the
`partition-NAME` priority classes), SchedulerType from the backfill mode, and a tree
topology (a leaf switch per block) or, with racks of several nodes, a block topology.

What either format cannot say is returned as notes (e.g. a policy other than Kueue's
priority order, a partition's quota below its nodes' GPUs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from gpufleet.fleet.build import build_layout
from gpufleet.interop import hostlist
from gpufleet.spec.scenario import Scenario

FLAVOR_LABEL = "gpufleet.io/flavor"
BLOCK_LABEL = "gpufleet.io/block"
RACK_LABEL = "gpufleet.io/rack"
HOSTNAME = "kubernetes.io/hostname"
GPU = "nvidia.com/gpu"
KUEUE = "kueue.x-k8s.io/v1beta2"


@dataclass
class Exported:
    """Files (name -> text) in the cluster's format, and what they could not express."""

    files: dict[str, str]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Node:
    name: str
    pool: str
    gpu: str
    gpus: int
    block: str
    rack: str


def _nodes(scenario: Scenario) -> list[_Node]:
    """Every node the scenario ever has, named pool-bBLOCK-rRACK-nNODE (all deliveries)."""
    layout = build_layout(scenario)
    out = []
    for pool in layout.pools:
        for rack in range(pool.racks):
            block = rack // pool.racks_per_block
            for node in range(pool.nodes_per_rack):
                out.append(_Node(f"{pool.name}-b{block}-r{rack}-n{node}", pool.name, pool.gpu.name,
                                 pool.gpus_per_node, f"{pool.name}-b{block}", f"{pool.name}-r{rack}"))
    return out


def export_kueue(scenario: Scenario) -> Exported:
    """The scenario as Kueue objects (see the module docstring)."""
    notes = _common_notes(scenario)
    spec = scenario.scheduler
    docs: list[dict[str, Any]] = []
    if spec.policy.name not in ("priority", "drf"):
        notes.append(f"policy {spec.policy.name}: Kueue orders each ClusterQueue by priority, then creation "
                     "(exported as that)")
    if spec.backfill.value != "greedy":
        notes.append(f"backfill {spec.backfill.value}: Kueue admits whatever fits (greedy); StrictFIFO queues stop "
                     "at the first that does not")
    nodes = _nodes(scenario)
    types = list(dict.fromkeys(node.gpu for node in nodes))
    docs.append({"apiVersion": KUEUE, "kind": "Topology", "metadata": {"name": "gpufleet"},
                 "spec": {"levels": [{"nodeLabel": BLOCK_LABEL}, {"nodeLabel": RACK_LABEL},
                                     {"nodeLabel": HOSTNAME}]}})
    quota_types = {flavor for queue in spec.queues for flavor in (*queue.nominal, *queue.borrowing_limit,
                                                                   *queue.lending_limit)}
    for gpu in [*types, *sorted(quota_types - set(types))]:
        docs.append({"apiVersion": KUEUE, "kind": "ResourceFlavor", "metadata": {"name": gpu},
                     "spec": {"nodeLabels": {FLAVOR_LABEL: gpu}, "topologyName": "gpufleet"}})
    cohorts = {cohort.name: cohort for cohort in spec.cohorts}
    cohort_quota: dict[str, Any] = {}
    locals_: dict[str, str] = {}
    for queue in spec.queues:
        if queue.name.startswith("cohort/") and not queue.tenants:
            cohort_quota[queue.name[len("cohort/"):]] = queue
            continue
        docs.append(_cluster_queue(queue))
        for tenant in queue.tenants:
            local = tenant.split(":", 1)[0]
            if tenant == "*" or "/" not in local:
                notes.append(f"tenant {tenant!r} of queue {queue.name}: Kueue names LocalQueues namespace/name "
                             "(not exported)")
                continue
            locals_.setdefault(local, queue.name)
    for name in dict.fromkeys([*cohorts, *cohort_quota]):
        cohort: dict[str, Any] = {"apiVersion": KUEUE, "kind": "Cohort", "metadata": {"name": name}, "spec": {}}
        if name in cohorts and cohorts[name].parent:
            cohort["spec"]["parentName"] = cohorts[name].parent
        if name in cohort_quota:
            cohort["spec"]["resourceGroups"] = _resource_groups(cohort_quota[name], limits=False)
        docs.append(cohort)
    for local, queue_name in locals_.items():
        namespace, _, name = local.partition("/")
        docs.append({"apiVersion": KUEUE, "kind": "LocalQueue", "metadata": {"namespace": namespace, "name": name},
                     "spec": {"clusterQueue": queue_name}})
    for cls in spec.priority_classes:
        docs.append({"apiVersion": KUEUE, "kind": "WorkloadPriorityClass", "metadata": {"name": cls.name},
                     "value": cls.value})
        if cls.default:
            notes.append(f"priority class {cls.name} is the default: a WorkloadPriorityClass has no default "
                         "(workloads without a class get 0)")
    if spec.policy.name == "drf":
        config: dict[str, Any] = {"apiVersion": "config.kueue.x-k8s.io/v1beta1", "kind": "Configuration",
                                  "fairSharing": {"enable": True}}
        if spec.fair_share.half_life_hours is not None:
            config["admissionFairSharing"] = {"usageHalfLifeTime": f"{spec.fair_share.half_life_hours!r}h"}
        docs.append(config)
    docs.append({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name, "labels": {
            HOSTNAME: node.name, FLAVOR_LABEL: node.gpu, BLOCK_LABEL: node.block, RACK_LABEL: node.rack}},
         "status": {"allocatable": {GPU: str(node.gpus)}, "capacity": {GPU: str(node.gpus)}}} for node in nodes]})
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = "".join(f"---\n{yaml.dump(doc, Dumper=dumper, sort_keys=False, width=1000)}" for doc in docs)
    return Exported({f"{scenario.name}-kueue.yaml": text}, notes)


def _cluster_queue(queue: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"namespaceSelector": {}}
    if queue.cohort:
        spec["cohortName"] = queue.cohort
    if queue.queueing_strategy.value != "BestEffortFIFO":
        spec["queueingStrategy"] = queue.queueing_strategy.value
    groups = _resource_groups(queue, limits=True)
    if groups:
        spec["resourceGroups"] = groups
    rules = queue.preemption
    preemption: dict[str, Any] = {}
    if rules.within_cluster_queue.value != "Never":
        preemption["withinClusterQueue"] = rules.within_cluster_queue.value
    if rules.reclaim_within_cohort.value != "Never":
        preemption["reclaimWithinCohort"] = rules.reclaim_within_cohort.value
    if rules.borrow_within_cohort.value != "Never":
        preemption["borrowWithinCohort"] = {"policy": rules.borrow_within_cohort.value}
    if preemption:
        spec["preemption"] = preemption
    if queue.fair_share.weight != 1.0:
        spec["fairSharing"] = {"weight": repr(queue.fair_share.weight)}
    return {"apiVersion": KUEUE, "kind": "ClusterQueue", "metadata": {"name": queue.name}, "spec": spec}


def _resource_groups(queue: Any, limits: bool) -> list[dict[str, Any]]:
    flavors = list(dict.fromkeys([*queue.nominal, *queue.borrowing_limit, *queue.lending_limit]))
    if not flavors:
        return []
    entries = []
    for flavor in flavors:
        resource: dict[str, Any] = {"name": GPU, "nominalQuota": queue.nominal.get(flavor, 0)}
        if limits and flavor in queue.borrowing_limit:
            resource["borrowingLimit"] = queue.borrowing_limit[flavor]
        if limits and flavor in queue.lending_limit:
            resource["lendingLimit"] = queue.lending_limit[flavor]
        entries.append({"name": flavor, "resources": [resource]})
    return [{"coveredResources": [GPU], "flavors": entries}]


def _common_notes(scenario: Scenario) -> list[str]:
    notes = []
    if scenario.workloads or scenario.services:
        notes.append("workloads and services are not exported (the configuration only)")
    if any(len(pool.deliveries) > 1 or pool.retirements for pool in scenario.fleet.pools) or \
            any(contract.expansions for contract in scenario.all_contracts):
        notes.append("capacity that changes over time is exported as every node the scenario ever has")
    if scenario.scheduler.placement != "best_fit":
        notes.append(f"placement {scenario.scheduler.placement} is not a cluster setting (not exported)")
    if scenario.failures is not None:
        notes.append("failures are not exported")
    return notes


def export_slurm(scenario: Scenario) -> Exported:
    """The scenario as slurm.conf and topology.conf (see the module docstring)."""
    notes = _common_notes(scenario)
    spec = scenario.scheduler
    nodes = _nodes(scenario)
    layout = build_layout(scenario)
    lines = [f"# Written by gpufleet export slurm from scenario {scenario.name}", f"ClusterName={scenario.name}",
             f"SchedulerType={'sched/builtin' if spec.backfill.value == 'none' else 'sched/backfill'}"]
    if spec.backfill.value == "greedy":
        notes.append("backfill greedy: Slurm's backfill never delays the first blocked job (exported as "
                     "sched/backfill)")
    if spec.max_job_test != 500:
        lines.append(f"SchedulerParameters=bf_max_job_test={spec.max_job_test}")
    if spec.policy.name not in ("fifo", "priority"):
        notes.append(f"policy {spec.policy.name}: exported as Slurm's partition tiers, then submit time")
    block_topology = any(pool.nodes_per_rack > 1 for pool in layout.pools)
    lines.append(f"TopologyPlugin=topology/{'block' if block_topology else 'tree'}")
    lines.append("GresTypes=gpu")
    by_pool: dict[str, list[_Node]] = {}
    for node in nodes:
        by_pool.setdefault(node.pool, []).append(node)
    for pool in layout.pools:
        members = by_pool.get(pool.name, [])
        if members:
            lines.append(f"NodeName={hostlist.compress([node.name for node in members])} "
                         f"Gres=gpu:{_gres_type(pool.gpu.name)}{pool.gpus_per_node}")
    tiers = {cls.name[len("partition-"):]: cls.value for cls in spec.priority_classes
             if cls.name.startswith("partition-")}
    for queue in spec.queues:
        if queue.name.startswith("cohort/") and not queue.tenants:
            notes.append(f"{queue.name}: a cohort's own quota has no Slurm counterpart (not exported)")
            continue
        kinds = [flavor for flavor, count in queue.nominal.items() if count > 0]
        wanted = {kind.upper() for kind in kinds}
        chosen = [node for node in nodes if node.gpu.upper() in wanted]
        members = [node.name for node in chosen]
        held = sum(node.gpus for node in chosen)
        if held != sum(queue.nominal.values()):
            notes.append(f"queue {queue.name}: a partition holds whole nodes: its {sum(queue.nominal.values())} "
                         f"GPUs of quota become all {held} GPUs of its types")
        parts = [f"PartitionName={queue.name}", f"Nodes={hostlist.compress(members) if members else ''}"]
        if "*" in queue.tenants:
            parts.append("Default=YES")
        if queue.name in tiers:
            parts.append(f"PriorityTier={tiers[queue.name]}")
        parts.append("State=UP")
        lines.append(" ".join(parts))
        if queue.cohort or queue.borrowing_limit or queue.lending_limit:
            notes.append(f"queue {queue.name}: cohorts and borrowing are not Slurm partition settings")
    topology = []
    if block_topology:
        racks: dict[str, list[str]] = {}
        for node in nodes:
            racks.setdefault(node.rack, []).append(node.name)
        for rack, names in racks.items():
            topology.append(f"BlockName={rack} Nodes={hostlist.compress(names)}")
        base = min(len(names) for names in racks.values())
        widest = max(pool.racks_per_block * pool.nodes_per_rack for pool in layout.pools)
        sizes = [base]
        while sizes[-1] * 2 <= widest:
            sizes.append(sizes[-1] * 2)
        topology.append("BlockSizes=" + ",".join(str(size) for size in sizes))
        if len({pool.nodes_per_rack for pool in layout.pools}) > 1 or sizes[-1] != widest:
            notes.append("block sizes are powers of two times the smallest block in Slurm: gpufleet blocks of other "
                         "sizes become the nearest smaller aggregation")
    else:
        blocks: dict[str, list[str]] = {}
        for node in nodes:
            blocks.setdefault(node.block, []).append(node.name)
        for block, names in blocks.items():
            topology.append(f"SwitchName={block} Nodes={hostlist.compress(names)}")
        if len(blocks) > 1:
            topology.append(f"SwitchName=top Switches={hostlist.compress(list(blocks))}")
    return Exported({"slurm.conf": "\n".join(lines) + "\n", "topology.conf": "\n".join(topology) + "\n"}, notes)


def _gres_type(gpu: str) -> str:
    return "" if gpu.lower() == "gpu" else f"{gpu}:"
