"""`gpufleet import kueue`: Kueue objects, nodes and workloads -> a scenario, its job records, a report.

Every file may hold any mix of objects (multi-document YAML, JSON, `kubectl get -o json`
lists). Objects are sorted by kind: Kueue's configuration (kueue_config), Nodes
(kueue_nodes), workloads (kueue_workloads). Other kinds (a Deployment, a Service) are
listed in the report as not modelled; an unknown kind in Kueue's own API group (a typo
such as `ClusterQueu`) and an object without apiVersion or kind are errors. A set of
files with nothing to import at all is an error.

The fleet comes from the nodes; without nodes, from the GPU quota: each flavor gets the
GPUs its ClusterQueues and Cohorts hold nominally (the capacity the quotas promise).
With nodes, nominal quota above a flavor's GPUs is an error (`allow_overcommit` to
accept it: Kueue allows it, and gpufleet then limits admissions by room, not quota).

Kueue admits workloads in priority order per ClusterQueue, any that fits (StrictFIFO
queues stop at the first that does not): policy `priority` (`drf` when fair sharing is
enabled), backfill `greedy`, each queue's own queueing strategy.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from gpufleet.errors import InputError, Problem
from gpufleet.interop.kueue_config import CONFIG_KINDS, GPU_RESOURCES, KueueConfig, PriorityClass, read_config
from gpufleet.interop.kueue_nodes import NODE_COLLAPSE, read_nodes
from gpufleet.interop.kueue_workloads import WORKLOAD_KINDS, read_workloads
from gpufleet.interop.pools import ClusterNode, Pools, build_pools
from gpufleet.interop.records import JobRecord
from gpufleet.interop.report import ImportReport
from gpufleet.interop.scenario import (
    Imported,
    catalog_match,
    gpu_type_entry,
    header_comment,
    horizon,
    trace_workload,
)
from gpufleet.traces.k8s import Document, FieldAccount, load_documents

KUEUE_GROUPS = ("kueue.x-k8s.io", "config.kueue.x-k8s.io")
KUEUE_NOT_MODELLED = {
    "AdmissionCheck": "admission checks are not modelled: admitted means started",
    "ProvisioningRequestConfig": "cluster autoscaler provisioning is not modelled: the nodes are the fleet",
    "MultiKueueConfig": "MultiKueue (dispatch to other clusters) is not modelled",
    "MultiKueueCluster": "MultiKueue (dispatch to other clusters) is not modelled",
}
ASSUMED_GPUS_PER_NODE = 8
"""GPUs per node of a fleet sized from quota when neither a node nor the flavor's labels say (assumption: HGX)."""


def import_kueue(files: list[str | Path], out: str | Path, nodes: str | Path | None = None,
                 workloads: list[str | Path] | None = None, name: str | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 gpu_resources: tuple[str, ...] = GPU_RESOURCES, gpus_per_node: int | None = None,
                 allow_overcommit: bool = False) -> Imported:
    """Read Kueue objects from `files` (plus `nodes` and `workloads`) into a scenario to be written at `out`."""
    paths = [Path(path) for path in [*files, *([nodes] if nodes else []), *(workloads or [])]]
    if not paths:
        raise InputError([Problem("give at least one file of Kueue objects")])
    documents = [document for path in paths for document in load_documents(path)]
    account = FieldAccount()
    _sort_kinds(documents, account)
    config = read_config(documents, gpu_resources)
    node_read = read_nodes(documents, config, gpu_resources)
    workload_read = read_workloads(documents, config, gpu_resources, ", ".join(str(path) for path in paths))
    _check_something(documents, config, node_read.readers, workload_read.records, paths, account)
    notes = list(node_read.notes)
    records = workload_read.records
    first, last, dated = horizon(records, start, end)
    notes += dated
    flavor_hints = {flavor: node_read.products.get(flavor) or _label_hint(config, flavor)
                    for flavor in set(config.flavors) | {node.flavor for node in node_read.nodes}}
    if node_read.nodes:
        node_files = sorted({document.file for document in documents if document.kind == "Node"})
        pools = build_pools(node_read.nodes, first, f"nodes ({', '.join(node_files)})")
        _check_quota_fits(config, pools, allow_overcommit, notes)
    else:
        pools = _pools_from_quota(config, first, gpus_per_node, flavor_hints, notes)
    notes += pools.notes
    if not pools.specs:
        raise InputError([Problem(_no_capacity(config, documents, gpu_resources),
                                  file=", ".join(str(path) for path in paths))])
    cluster = name or _name_from(paths[0])
    scheduler, scheduler_notes = _scheduler(config, records)
    notes += scheduler_notes
    notes += [f"{text} ({count} workloads)" if count > 1 else text for text, count in workload_read.notes.items()]
    out_path = Path(out)
    scenario: dict[str, Any] = {
        "name": cluster,
        "description": f"Kueue cluster imported from {', '.join(path.name for path in paths)} by gpufleet import "
                       "kueue.",
        "start": first.isoformat(sep=" ") if first.time() != datetime.min.time() else first.date().isoformat(),
        "end": last.isoformat(sep=" ") if last.time() != datetime.min.time() else last.date().isoformat(),
        "seed": 0,
        "gpu_types": _gpu_types(pools, config, flavor_hints),
        "fleet": {"pools": pools.specs},
    }
    if records:
        scenario["workloads"] = [trace_workload(f"{cluster}-workloads", out_path)]
    scenario["scheduler"] = scheduler
    for reader in config.readers + workload_read.readers:
        account.add(reader)
    for reader in node_read.readers:
        account.add(reader, collapse=NODE_COLLAPSE)
    jobs = workload_read.report.to_dict()
    jobs["ran_on"] = workload_read.ran_on
    report = ImportReport("kueue", [str(path) for path in paths], dict(sorted(account.objects.items())),
                          account.rows(), notes, jobs if workload_read.report.rows else None, pools.names,
                          {name: config.topologies[flavor.topology] for name, flavor in config.flavors.items()
                           if flavor.topology in config.topologies})
    return Imported(scenario, records, report, header_comment(report, "gpufleet import kueue"))


def _name_from(path: Path) -> str:
    return path.stem.replace("_", "-") or "kueue-cluster"


def _sort_kinds(documents: list[Document], account: FieldAccount) -> None:
    """Check every object has a kind; list the kinds gpufleet does not read; refuse unknown Kueue kinds."""
    known = set(CONFIG_KINDS) | set(WORKLOAD_KINDS) | {"Node"}
    for document in documents:
        if not document.kind or not document.api_version:
            missing = "kind" if not document.kind else "apiVersion"
            raise document.error((missing,), f"a Kubernetes object needs {missing} (a malformed object)")
        if document.kind in known:
            continue
        if document.group in KUEUE_GROUPS:
            if document.kind in KUEUE_NOT_MODELLED:
                account.leave_out(document, KUEUE_NOT_MODELLED[document.kind])
                continue
            raise document.error(("kind",), f"unknown Kueue kind {document.kind!r} (gpufleet reads "
                                            f"{', '.join(sorted(known))})")
        account.leave_out(document, f"kind {document.kind} is not modelled (not Kueue configuration, a node or a "
                                    "workload)")


def _check_something(documents: list[Document], config: KueueConfig, node_readers: list, records: list[JobRecord],
                     paths: list[Path], account: FieldAccount) -> None:
    relevant = config.readers or node_readers or any(document.kind in WORKLOAD_KINDS for document in documents)
    if not relevant:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(account.objects.items()))
        raise InputError([Problem(f"nothing to import: no Kueue configuration, node or workload object "
                                  f"(found {kinds or 'no objects'})", file=str(paths[0]))])


def _label_hint(config: KueueConfig, flavor: str) -> str | None:
    spec = config.flavors.get(flavor)
    if spec is None:
        return None
    return next((value for key, value in spec.node_labels.items() if "gpu" in key or "accelerator" in key), None)


def _quota_totals(config: KueueConfig) -> dict[str, list[tuple[int, Document, tuple]]]:
    """Per flavor, (nominal GPUs, object, field path) of every ClusterQueue and Cohort with GPU quota on it."""
    totals: dict[str, list[tuple[int, Document, tuple]]] = {}
    for owner in [*config.queues, *config.cohorts.values()]:
        for flavor, quota in owner.quotas.items():
            totals.setdefault(flavor, []).append((quota.nominal, owner.document, quota.where))
    return totals


def _check_quota_fits(config: KueueConfig, pools: Pools, allow_overcommit: bool, notes: list[str]) -> None:
    have = pools.gpus_by_flavor()
    for flavor, owners in _quota_totals(config).items():
        total = 0
        for nominal, document, where in owners:
            total += nominal
            if total > have.get(flavor, 0):
                message = (f"nominal quota of flavor {flavor!r} over all ClusterQueues and Cohorts reaches {total} "
                           f"GPUs here, but the nodes of that flavor have {have.get(flavor, 0)}")
                if not allow_overcommit:
                    raise document.error(where, message + " (the quota is over the cluster; --allow-overcommit "
                                                          "to import it anyway)")
                notes.append(message + ": imported as given (--allow-overcommit); room, not quota, limits "
                                       "admissions there")
                break


def _pools_from_quota(config: KueueConfig, start: datetime, gpus_per_node: int | None, hints: dict[str, str | None],
                      notes: list[str]) -> Pools:
    nodes = []
    for flavor, owners in sorted(_quota_totals(config).items()):
        total = sum(nominal for nominal, _, _ in owners)
        if total <= 0:
            continue
        found = catalog_match(hints.get(flavor), flavor)
        per_node = gpus_per_node or (found.gpus_per_node if found else ASSUMED_GPUS_PER_NODE)
        count = math.ceil(total / per_node)
        if gpus_per_node is None and found is None:
            notes.append(f"flavor {flavor}: no nodes given and no GPU model in its labels: {per_node} GPUs per node "
                         "(assumption: HGX; --gpus-per-node to set it)")
        if count * per_node != total:
            notes.append(f"flavor {flavor}: quota of {total} GPUs rounded up to {count} nodes of {per_node}")
        nodes += [ClusterNode(f"{flavor}-{index}", flavor, per_node) for index in range(count)]
    if nodes:
        notes.append("no nodes given: the fleet is sized from the nominal GPU quota of the ClusterQueues and "
                     "Cohorts; each node is its own rack and each flavor one block")
    return build_pools(nodes, start, "sized from the nominal GPU quota")


def _no_capacity(config: KueueConfig, documents: list[Document], gpu_resources: tuple[str, ...]) -> str:
    resources = sorted({str(resource.get("name")) for d in documents if d.kind in ("ClusterQueue", "Cohort")
                        for group in (d.data.get("spec") or {}).get("resourceGroups") or []
                        for flavor in group.get("flavors") or [] for resource in flavor.get("resources") or []})
    seen = f" (their quotas are on: {', '.join(resources)})" if resources else ""
    return (f"no GPU capacity to simulate: no node has GPUs ({', '.join(gpu_resources)}) of a flavor, and no "
            f"ClusterQueue or Cohort holds GPU quota{seen}; CPU and memory are not scheduled. Give --nodes, or "
            "--gpu-resource NAME if your GPUs go by another resource name")


def _gpu_types(pools: Pools, config: KueueConfig, hints: dict[str, str | None]) -> dict[str, Any]:
    types: dict[str, Any] = {}
    shapes = {spec["gpu"]: spec for spec in reversed(pools.specs)}
    flavors = list(dict.fromkeys([spec["gpu"] for spec in pools.specs] + list(_quota_totals(config))))
    for flavor in flavors:
        spec = shapes.get(flavor)
        if spec is None:
            types[flavor] = gpu_type_entry(flavor, 8, 8, "flavor with quota but no nodes (shape unused)",
                                           hints.get(flavor))
            continue
        types[flavor] = gpu_type_entry(flavor, spec["gpus_per_node"], spec["gpus_per_node"] * spec["nodes_per_rack"],
                                       spec["deliveries"][0]["source"], hints.get(flavor))
    return types


def _scheduler(config: KueueConfig, records: list[JobRecord]) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    teams_of: dict[str, set[str]] = {}
    for local in config.local_queues:
        teams_of.setdefault(local.cluster_queue, set()).add(local.team)
    used = {record.team for record in records}
    by_local: dict[str, set[str]] = {}
    for team in used:
        by_local.setdefault(team.split(":", 1)[0], set()).add(team)
    queue_names = {queue.name for queue in config.queues}
    for local in config.local_queues:
        if local.cluster_queue not in queue_names and config.queues:
            notes.append(f"LocalQueue {local.team} points at ClusterQueue {local.cluster_queue!r}, which is not "
                         "given")
    queues = []
    for queue in config.queues:
        tenants = set()
        for team in teams_of.get(queue.name, set()):
            tenants |= {team} | by_local.get(team, set())
        entry: dict[str, Any] = {"name": queue.name, "tenants": sorted(tenants)}
        if queue.cohort:
            entry["cohort"] = queue.cohort
        _quota_fields(entry, queue.quotas)
        if queue.strategy != "BestEffortFIFO":
            entry["queueing_strategy"] = queue.strategy
        if queue.preemption:
            entry["preemption"] = dict(queue.preemption)
        if queue.weight is not None and queue.weight != 1.0:
            entry["fair_share"] = {"weight": queue.weight}
        queues.append(entry)
    for cohort in config.cohorts.values():
        if cohort.quotas:
            entry = {"name": f"cohort/{cohort.name}", "tenants": [], "cohort": cohort.name}
            _quota_fields(entry, cohort.quotas)
            queues.append(entry)
            notes.append(f"Cohort {cohort.name}'s own quota is held by a queue without tenants, cohort/{cohort.name}, "
                         "that lends all of it to the cohort tree")
    scheduler: dict[str, Any] = {"policy": "drf" if config.fair_sharing else "priority", "backfill": "greedy"}
    if queues:
        scheduler["queues"] = queues
    cohorts = [{"name": cohort.name, **({"parent": cohort.parent} if cohort.parent else {})}
               for cohort in config.cohorts.values()]
    if cohorts:
        scheduler["cohorts"] = cohorts
    _check_cohort_cycles(config)
    classes = dict(config.priority_classes)
    for team in sorted(used):
        _, _, cls = team.partition(":")
        if cls and cls not in classes:
            if cls.startswith("priority-") and cls[len("priority-"):].lstrip("-").isdigit():
                classes[cls] = PriorityClass(cls, int(cls[len("priority-"):]))
            else:
                notes.append(f"priority class {cls!r} is named by workloads but not given: priority 0")
    priority = []
    for cls in classes.values():
        teams = sorted(team for team in used if team.partition(":")[2] == cls.name)
        entry = {"name": cls.name, "value": cls.value, "teams": teams}
        if cls.default:
            entry["default"] = True
        priority.append(entry)
    if priority:
        scheduler["priority_classes"] = priority
    if config.half_life_hours is not None:
        scheduler["fair_share"] = {"half_life_hours": config.half_life_hours}
    return scheduler, notes


def _quota_fields(entry: dict[str, Any], quotas: dict) -> None:
    entry["nominal"] = {flavor: quota.nominal for flavor, quota in quotas.items()}
    borrowing = {flavor: quota.borrowing for flavor, quota in quotas.items() if quota.borrowing is not None}
    lending = {flavor: quota.lending for flavor, quota in quotas.items() if quota.lending is not None}
    if borrowing:
        entry["borrowing_limit"] = borrowing
    if lending:
        entry["lending_limit"] = lending


def _check_cohort_cycles(config: KueueConfig) -> None:
    for cohort in config.cohorts.values():
        seen, node = {cohort.name}, cohort.parent
        while node is not None and node in config.cohorts:
            if node in seen:
                raise cohort.document.error(("spec", "parentName"), f"Cohort {cohort.name!r} is its own ancestor "
                                                                    "(a cycle of parents)")
            seen.add(node)
            node = config.cohorts[node].parent
