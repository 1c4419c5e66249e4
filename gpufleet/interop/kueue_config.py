"""Kueue's configuration objects, read field by field (v1beta1 and v1beta2 spellings).

ResourceFlavor, ClusterQueue, Cohort, LocalQueue, WorkloadPriorityClass (and core
PriorityClass), Topology and the controller's Configuration. Only GPU resources
(`nvidia.com/gpu`, `amd.com/gpu`, or those named with `gpu_resources`) carry quota in
gpufleet; every other field read is recorded as mapped or not modelled, with why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from gpufleet.traces.k8s import Document, FieldReader, parse_quantity, whole

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
CONFIG_KINDS = ("ResourceFlavor", "ClusterQueue", "Cohort", "LocalQueue", "WorkloadPriorityClass", "PriorityClass",
                "Topology", "Configuration")

STATUS = "observed state of the live object, not an input"
ONLY_GPUS = "quota on {resource}: only GPU resources are scheduled"
NAMESPACES = "namespaces are not modelled: every LocalQueue pointing at the ClusterQueue feeds it"
FUNGIBILITY = ("gpufleet tries every flavor the queue has quota for, best fit first; Kueue's flavor order and "
               "whenCanBorrow/whenCanPreempt are not modelled")
CHECKS = "admission checks (ProvisioningRequest, MultiKueue) are not modelled: admitted means started"
TOLERATIONS = "taints and tolerations are not modelled: a flavor's nodes are the nodes its labels select"
COHORT_LIMITS = ("a cohort's own borrowing and lending limits are not modelled: gpufleet pools a cohort tree's "
                 "unused quota at its root")
COHORT_WEIGHT = "fair-sharing weights are per ClusterQueue in gpufleet; a Cohort's weight is not modelled"
TEXT = "description text"


@dataclass
class Quota:
    """GPUs of one flavor: nominal, and the limits (None: no limit)."""

    nominal: int
    borrowing: int | None = None
    lending: int | None = None
    where: tuple = ()  # field path of the nominal quota, for messages


@dataclass
class ClusterQueue:
    name: str
    document: Document
    cohort: str | None = None
    strategy: str = "BestEffortFIFO"
    quotas: dict[str, Quota] = field(default_factory=dict)
    preemption: dict[str, str] = field(default_factory=dict)
    weight: float | None = None


@dataclass
class Cohort:
    name: str
    document: Document
    parent: str | None = None
    quotas: dict[str, Quota] = field(default_factory=dict)


@dataclass
class Flavor:
    name: str
    document: Document
    node_labels: dict[str, str] = field(default_factory=dict)
    topology: str | None = None


@dataclass
class LocalQueue:
    namespace: str
    name: str
    cluster_queue: str

    @property
    def team(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class PriorityClass:
    name: str
    value: int
    default: bool = False


@dataclass
class KueueConfig:
    """The configuration objects of a cluster, as read."""

    flavors: dict[str, Flavor] = field(default_factory=dict)
    queues: list[ClusterQueue] = field(default_factory=list)
    cohorts: dict[str, Cohort] = field(default_factory=dict)
    local_queues: list[LocalQueue] = field(default_factory=list)
    priority_classes: dict[str, PriorityClass] = field(default_factory=dict)
    topologies: dict[str, list[str]] = field(default_factory=dict)
    fair_sharing: bool = False
    half_life_hours: float | None = None
    readers: list[FieldReader] = field(default_factory=list)


def read_config(documents: list[Document], gpu_resources: tuple[str, ...] = GPU_RESOURCES) -> KueueConfig:
    """Read the configuration objects among `documents` (others are ignored here)."""
    config = KueueConfig()
    for document in documents:
        reader = FieldReader(document)
        kind = document.kind
        if kind not in CONFIG_KINDS:
            continue
        reader.get("apiVersion", to="how the object is read")
        reader.get("kind", to="how the object is read")
        reader.skip("status", reason=STATUS)
        if kind == "ClusterQueue":
            _cluster_queue(reader, config, gpu_resources)
        elif kind == "Cohort":
            _cohort(reader, config, gpu_resources)
        elif kind == "ResourceFlavor":
            _flavor(reader, config)
        elif kind == "LocalQueue":
            _local_queue(reader, config)
        elif kind in ("WorkloadPriorityClass", "PriorityClass"):
            _priority_class(reader, config)
        elif kind == "Topology":
            _topology(reader, config)
        else:
            _configuration(reader, config)
        config.readers.append(reader)
    _check_names(config)
    return config


def _name(reader: FieldReader, to: str) -> str:
    name = reader.get("metadata", "name", to=to)
    if not isinstance(name, str) or not name:
        raise reader.error(("metadata", "name"), "a name is required")
    return name


def _cluster_queue(reader: FieldReader, config: KueueConfig, gpu_resources: tuple[str, ...]) -> None:
    queue = ClusterQueue(_name(reader, "scheduler.queues[].name"), reader.document)
    for spelling in ("cohort", "cohortName"):  # v1beta1, v1beta2
        cohort = reader.get("spec", spelling, to="scheduler.queues[].cohort")
        if cohort:
            queue.cohort = str(cohort)
    strategy = reader.get("spec", "queueingStrategy", to="scheduler.queues[].queueing_strategy")
    if strategy is not None:
        if strategy not in ("StrictFIFO", "BestEffortFIFO"):
            raise reader.error(("spec", "queueingStrategy"), f"{strategy!r} is not StrictFIFO or BestEffortFIFO")
        queue.strategy = strategy
    queue.quotas = _resource_groups(reader, gpu_resources, "scheduler.queues[]")
    rules = {"withinClusterQueue": ("within_cluster_queue", ("Never", "LowerPriority", "LowerOrNewerEqualPriority")),
             "reclaimWithinCohort": ("reclaim_within_cohort", ("Never", "LowerPriority", "Any"))}
    for key, (target, allowed) in rules.items():
        value = reader.get("spec", "preemption", key, to=f"scheduler.queues[].preemption.{target}")
        if value is not None:
            if value not in allowed:
                raise reader.error(("spec", "preemption", key), f"{value!r} is not one of {', '.join(allowed)}")
            queue.preemption[target] = value
    borrow = reader.get("spec", "preemption", "borrowWithinCohort", "policy",
                        to="scheduler.queues[].preemption.borrow_within_cohort")
    if borrow is not None:
        if borrow not in ("Never", "LowerPriority"):
            raise reader.error(("spec", "preemption", "borrowWithinCohort", "policy"),
                               f"{borrow!r} is not Never or LowerPriority")
        queue.preemption["borrow_within_cohort"] = borrow
    reader.skip("spec", "preemption", "borrowWithinCohort", "maxPriorityThreshold",
                reason="a ceiling on the priority of borrowing victims is not modelled (any lower priority may be "
                       "preempted)")
    weight = reader.get("spec", "fairSharing", "weight", to="scheduler.queues[].fair_share.weight")
    if weight is not None:
        value = _fraction(reader, ("spec", "fairSharing", "weight"), weight)
        if value <= 0:
            reader.skip("spec", "fairSharing", "weight", reason="weight 0 (share last) is not modelled: gpufleet "
                                                                "weights are positive; the default 1 is used")
            reader.used.pop(("spec", "fairSharing", "weight"), None)
        else:
            queue.weight = float(value)
    reader.skip("spec", "flavorFungibility", reason=FUNGIBILITY)
    reader.skip("spec", "namespaceSelector", reason=NAMESPACES)
    reader.skip("spec", "admissionChecks", reason=CHECKS)
    reader.skip("spec", "admissionChecksStrategy", reason=CHECKS)
    reader.skip("spec", "stopPolicy", reason="holding or draining a queue is not modelled: it admits as usual")
    reader.skip("spec", "admissionScope", reason="admission fair sharing within a queue is not modelled")
    config.queues.append(queue)


def _resource_groups(reader: FieldReader, gpu_resources: tuple[str, ...], target: str,
                     limits: bool = True) -> dict[str, Quota]:
    """GPU quota per flavor from spec.resourceGroups (ClusterQueue and Cohort alike); `limits`
    False: borrowing and lending limits are recorded as not modelled (a Cohort's)."""
    quotas: dict[str, Quota] = {}
    groups = reader.get("spec", "resourceGroups") or []
    if not isinstance(groups, list):
        raise reader.error(("spec", "resourceGroups"), "expected a list of resource groups")
    for g, group in enumerate(groups):
        covered = group.get("coveredResources") if isinstance(group, dict) else None
        if not isinstance(covered, list):
            raise reader.error(("spec", "resourceGroups", g, "coveredResources"), "expected a list of resource names")
        flavors = group.get("flavors") or []
        if not isinstance(flavors, list):
            raise reader.error(("spec", "resourceGroups", g, "flavors"), "expected a list of flavors")
        for c, resource in enumerate(covered):
            if resource in gpu_resources:
                reader.get("spec", "resourceGroups", g, "coveredResources", c, to="GPU resource (quota in GPUs)")
            else:
                reader.skip("spec", "resourceGroups", g, "coveredResources", c,
                            reason=ONLY_GPUS.format(resource="non-GPU resources"))
        for f, flavor in enumerate(flavors):
            where = ("spec", "resourceGroups", g, "flavors", f)
            name = flavor.get("name") if isinstance(flavor, dict) else None
            if not isinstance(name, str) or not name:
                raise reader.error((*where, "name"), "a flavor needs a name")
            resources = flavor.get("resources") or []
            if not isinstance(resources, list):
                raise reader.error((*where, "resources"), "expected a list of resources")
            gpu_seen = False
            for r, resource in enumerate(resources):
                spot = (*where, "resources", r)
                resource_name = resource.get("name") if isinstance(resource, dict) else None
                if resource_name not in gpu_resources:
                    reader.skip(*spot, reason=ONLY_GPUS.format(resource=resource_name))
                    continue
                if name in quotas:
                    raise reader.error((*spot, "name"), f"flavor {name!r} has quota for two GPU resources")
                gpu_seen = True
                reader.get(*spot, "name", to="GPU resource (quota in GPUs)")
                nominal = _gpus(reader, (*spot, "nominalQuota"), f"{target}.nominal[{name}]", required=True)
                borrowing = lending = None
                if limits:
                    borrowing = _gpus(reader, (*spot, "borrowingLimit"), f"{target}.borrowing_limit[{name}]")
                    lending = _gpus(reader, (*spot, "lendingLimit"), f"{target}.lending_limit[{name}]")
                else:
                    reader.skip(*spot, "borrowingLimit", reason=COHORT_LIMITS)
                    reader.skip(*spot, "lendingLimit", reason=COHORT_LIMITS)
                if lending is not None and lending > nominal:
                    raise reader.error((*spot, "lendingLimit"), f"lendingLimit {lending} is above nominalQuota "
                                                                f"{nominal}")
                quotas[name] = Quota(nominal, borrowing, lending, (*spot, "nominalQuota"))
            if gpu_seen:
                reader.get(*where, "name", to=f"{target} quota keys (flavor = GPU type)")
            else:
                reader.skip(*where, "name", reason=ONLY_GPUS.format(resource="non-GPU resources"))
    return quotas


def _gpus(reader: FieldReader, path: tuple, to: str, required: bool = False) -> int | None:
    value = reader.get(*path, to=to)
    if value is None:
        if required:
            raise reader.error(path, "nominalQuota is required")
        return None
    if isinstance(value, str) and value.strip().endswith(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")):
        raise reader.error(path, f"{value!r} is a size (binary suffix), not a count of GPUs")
    quantity = _fraction(reader, path, value)
    count = whole(quantity)
    if count is None or count < 0:
        raise reader.error(path, f"{value!r} is not a whole number of GPUs")
    return count


def _fraction(reader: FieldReader, path: tuple, value: object) -> Fraction:
    try:
        return parse_quantity(value)
    except ValueError as exc:
        raise reader.error(path, str(exc)) from None


def _cohort(reader: FieldReader, config: KueueConfig, gpu_resources: tuple[str, ...]) -> None:
    cohort = Cohort(_name(reader, "scheduler.cohorts[].name"), reader.document)
    for spelling in ("parent", "parentName"):  # v1beta1, v1beta2
        parent = reader.get("spec", spelling, to="scheduler.cohorts[].parent")
        if parent:
            cohort.parent = str(parent)
    cohort.quotas = _resource_groups(reader, gpu_resources, f"scheduler.queues[cohort/{cohort.name}]",
                                     limits=False)
    reader.skip("spec", "fairSharing", reason=COHORT_WEIGHT)
    config.cohorts[cohort.name] = cohort


def _flavor(reader: FieldReader, config: KueueConfig) -> None:
    flavor = Flavor(_name(reader, "gpu_types / fleet.pools[].gpu (flavor name)"), reader.document)
    labels = reader.get("spec", "nodeLabels", to="which nodes belong to the flavor", whole=True) or {}
    if not isinstance(labels, dict):
        raise reader.error(("spec", "nodeLabels"), "expected a mapping of node labels")
    flavor.node_labels = {str(key): str(value) for key, value in labels.items()}
    topology = reader.get("spec", "topologyName", to="fleet.pools[] racks and blocks (the Topology's levels)")
    flavor.topology = str(topology) if topology else None
    reader.skip("spec", "nodeTaints", reason=TOLERATIONS)
    reader.skip("spec", "tolerations", reason=TOLERATIONS)
    config.flavors[flavor.name] = flavor


def _local_queue(reader: FieldReader, config: KueueConfig) -> None:
    name = _name(reader, "scheduler.queues[].tenants (namespace/name)")
    namespace = reader.get("metadata", "namespace", to="scheduler.queues[].tenants (namespace/name)") or "default"
    target = reader.get("spec", "clusterQueue", to="scheduler.queues[].tenants")
    if not isinstance(target, str) or not target:
        raise reader.error(("spec", "clusterQueue"), "a LocalQueue must name its ClusterQueue")
    reader.skip("spec", "stopPolicy", reason="holding or draining a queue is not modelled")
    reader.skip("spec", "fairSharing", reason="LocalQueue fair-sharing weights are not modelled")
    config.local_queues.append(LocalQueue(str(namespace), name, target))


def _priority_class(reader: FieldReader, config: KueueConfig) -> None:
    name = _name(reader, "scheduler.priority_classes[].name")
    value = reader.get("value", to="scheduler.priority_classes[].value")
    if isinstance(value, bool) or not isinstance(value, int):
        raise reader.error(("value",), f"value {value!r} is not a whole number")
    default = bool(reader.get("globalDefault", to="scheduler.priority_classes[].default") or False)
    reader.skip("description", reason=TEXT)
    reader.skip("preemptionPolicy", reason="a class that never preempts is not modelled (its jobs may preempt "
                                           "where their queue allows)")
    config.priority_classes[name] = PriorityClass(name, value, default)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")


def _topology(reader: FieldReader, config: KueueConfig) -> None:
    name = _name(reader, "the Topology named by flavors")
    levels = reader.get("spec", "levels") or []
    if not isinstance(levels, list) or not levels:
        raise reader.error(("spec", "levels"), "a Topology needs levels")
    labels = []
    for k, level in enumerate(levels):
        label = level.get("nodeLabel") if isinstance(level, dict) else None
        if not isinstance(label, str) or not label:
            raise reader.error(("spec", "levels", k, "nodeLabel"), "each level names a node label")
        reader.get("spec", "levels", k, "nodeLabel", to="block / rack / node level of the flavor's pools")
        labels.append(label)
    config.topologies[name] = labels


def _configuration(reader: FieldReader, config: KueueConfig) -> None:
    enabled = reader.get("fairSharing", "enable", to="scheduler.policy: drf when enabled")
    config.fair_sharing = bool(enabled)
    reader.skip("fairSharing", "preemptionStrategies",
                reason="fair-sharing preemption strategies are not modelled (preemption follows the queues' "
                       "settings)")
    half_life = reader.get("admissionFairSharing", "usageHalfLifeTime",
                           to="scheduler.fair_share.half_life_hours")
    if half_life is not None:
        config.half_life_hours = _hours(reader, ("admissionFairSharing", "usageHalfLifeTime"), str(half_life))
    reader.skip("waitForPodsReady", reason="pods are ready the moment a job is admitted (no start-up timeout)")
    reader.skip("manageJobsWithoutQueueName", reason="jobs without a queue name are not imported")
    reader.skip("managedJobsNamespaceSelector", reason=NAMESPACES)
    reader.skip("integrations", reason="which job kinds Kueue manages: the importer reads Job, JobSet, "
                                       "LeaderWorkerSet, Pod and Workload objects")


def _hours(reader: FieldReader, path: tuple, text: str) -> float:
    """A Go duration ('168h', '30m', '1h30m') in hours."""
    if not text or _DURATION.sub("", text):
        raise reader.error(path, f"{text!r} is not a duration like 168h or 30m")
    seconds = 0.0
    for number, unit in _DURATION.findall(text):
        seconds += float(number) * {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[unit]
    if seconds <= 0:
        raise reader.error(path, f"{text!r} is not a positive duration")
    return seconds / 3600.0


def _check_names(config: KueueConfig) -> None:
    seen: dict[str, ClusterQueue] = {}
    for queue in config.queues:
        if queue.name in seen:
            raise queue.document.error(("metadata", "name"), f"ClusterQueue {queue.name!r} is defined twice (also "
                                       f"{seen[queue.name].document.describe()} in {seen[queue.name].document.file})")
        seen[queue.name] = queue
