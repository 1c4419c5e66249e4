"""Kueue workloads as job records: Workload, Job, JobSet, LeaderWorkerSet and Pod objects.

A job's GPUs are its pods' GPU requests (containers summed, the largest init container
if larger), times its pod count: Workload `spec.podSets[].count`, Job `parallelism`,
JobSet `replicas x parallelism` per replicated job, LeaderWorkerSet one leader and
`size - 1` workers per group (each group is one workload). Its team is
`namespace/local-queue`, with `:priority-class` when it names one (a gpufleet team has
one queue and one priority). Times: created (`metadata.creationTimestamp`), admitted
(Workload `Admitted`, else `QuotaReserved` condition; Job `status.startTime`; JobSet
`Suspended=False`; Pod `status.startTime`), finished (`Finished`/`Complete`/`Failed`
conditions, Job `completionTime`, Pod container `finishedAt`).

Topology requests (`kueue.x-k8s.io/podset-required-topology` and friends, or a v1beta2
Workload's `topologyRequest`) set the job's NVLink group: all its GPUs in one rack when
required at the rack or node level, the whole gang in one block when required at the
block level; preferred levels are left to best-fit placement, which packs gangs into
the fewest racks and blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gpufleet.interop.kueue_config import KueueConfig
from gpufleet.interop.kueue_nodes import HOSTNAME, levels_of
from gpufleet.interop.records import JobRecord, epoch
from gpufleet.traces.k8s import Document, FieldReader, parse_quantity, whole
from gpufleet.traces.report import ReadReport

WORKLOAD_KINDS = ("Workload", "Job", "JobSet", "LeaderWorkerSet", "Pod")
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
REQUIRED = "kueue.x-k8s.io/podset-required-topology"
PREFERRED = "kueue.x-k8s.io/podset-preferred-topology"
UNCONSTRAINED = "kueue.x-k8s.io/podset-unconstrained-topology"
GROUP_NAME = "kueue.x-k8s.io/podset-group-name"
SLICE_LEVEL = "kueue.x-k8s.io/podset-slice-required-topology"
SLICE_SIZE = "kueue.x-k8s.io/podset-slice-size"

NO_QUEUE = "no queue name (kueue.x-k8s.io/queue-name): Kueue does not manage it"
NO_CREATION = ("no creationTimestamp: a manifest, not a record of a submission (ask `gpufleet admit` when it "
               "would start)")
UNKNOWN_QUEUE = "its LocalQueue is not in the configuration read"
INACTIVE = "deactivated (spec.active: false): it is never admitted"
POD_SPEC = "pod spec other than GPU requests (images, commands, volumes...): not a scheduling input"
OTHER_REQUESTS = "only GPUs are scheduled (CPU, memory and other requests are not modelled)"
PLACEMENT = "where an admitted workload was placed is not pinned: gpufleet places it by best fit"


@dataclass
class PodSet:
    name: str
    count: int
    gpus_per_pod: int
    required: str | None = None
    preferred: str | None = None
    group_name: str | None = None
    slice_level: str | None = None
    slice_size: int | None = None

    @property
    def gpus(self) -> int:
        return self.count * self.gpus_per_pod


@dataclass
class WorkloadRead:
    """The job records read from workload objects, the read report and the approximations."""

    records: list[JobRecord] = field(default_factory=list)
    report: ReadReport = field(default_factory=lambda: ReadReport("", "kueue"))
    readers: list[FieldReader] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    ran_on: dict[str, str] = field(default_factory=dict)

    def note(self, text: str) -> None:
        self.notes[text] = self.notes.get(text, 0) + 1


def read_workloads(documents: list[Document], config: KueueConfig, gpu_resources: tuple[str, ...],
                   source: str, submitted: float | None = None) -> WorkloadRead:
    """Job records of the workload objects among `documents`; `submitted` stands in for a missing
    creationTimestamp (a manifest asked about by admit), else such objects are left out."""
    out = WorkloadRead(report=ReadReport(source, "kueue"))
    known_queues = {queue.team for queue in config.local_queues}
    for document in documents:
        if document.kind not in WORKLOAD_KINDS:
            continue
        reader = FieldReader(document)
        reader.get("apiVersion", to="how the object is read")
        reader.get("kind", to="how the object is read")
        out.readers.append(reader)
        out.report.rows += 1
        jobs = _read(reader, config, gpu_resources, out, submitted)
        for record, reason in jobs:
            if reason is None and known_queues and record.queue not in known_queues:
                reason = UNKNOWN_QUEUE
            if reason is not None:
                out.report.leave_out(reason, 1)
            else:
                out.records.append(record)
        if len(jobs) > 1:
            out.report.rows += len(jobs) - 1  # a LeaderWorkerSet's groups are one record each
    return out


def _read(reader: FieldReader, config: KueueConfig, gpu_resources: tuple[str, ...],
          out: WorkloadRead, submitted: float | None) -> list[tuple[JobRecord, str | None]]:
    document = reader.document
    kind = document.kind
    name = reader.get("metadata", "name", to="the job list's name") or \
        reader.get("metadata", "generateName", to="the job list's name")
    if not name:
        raise reader.error(("metadata", "name"), "a workload needs a name (or generateName)")
    namespace = reader.get("metadata", "namespace", to="team (namespace/local-queue)") or "default"
    created = _time(reader, ("metadata", "creationTimestamp"), "the job list's submit")
    if created is None:
        created = submitted
    if kind == "Workload":
        podsets = _workload_podsets(reader, gpu_resources)
        queue = reader.get("spec", "queueName", to="team (namespace/local-queue)")
        priority = _workload_priority(reader)
        start, end, status = _workload_times(reader)
        limit = _limit(reader, ("spec", "maximumExecutionTimeSeconds"))
        _workload_status(reader, out, f"{namespace}/{name}")
        if reader.get("spec", "active", to="left out when false") is False:
            return [(JobRecord(name, "", 0, math.nan), INACTIVE)]
    else:
        queue = _label(reader, QUEUE_LABEL, "team (namespace/local-queue)")
        priority = _label(reader, PRIORITY_LABEL, "team suffix :priority-class (scheduler.priority_classes)")
        if kind == "Job":
            podsets = [_job_podset(reader, ("spec",), "main", gpu_resources)]
            start, end, status = _job_times(reader)
            limit = _limit(reader, ("spec", "activeDeadlineSeconds"))
            reader.skip("spec", "suspend", reason="Kueue's own switch (suspended until admitted)")
            reader.skip("spec", "completions", reason="completions beyond parallelism are not modelled: the run "
                                                     "time is the job's")
        elif kind == "JobSet":
            podsets = _jobset_podsets(reader, gpu_resources)
            start, end, status = _jobset_times(reader)
            limit = None
        elif kind == "LeaderWorkerSet":
            return _leader_worker_groups(reader, name, namespace, queue, priority, created, config, gpu_resources,
                                         out)
        else:
            podsets = [_pod_podset(reader, ("spec",), ("metadata",), "main", gpu_resources, count=1)]
            start, end, status = _pod_times(reader)
            limit = _limit(reader, ("spec", "activeDeadlineSeconds"))
        if priority is None and kind in ("Job", "Pod"):
            spec_path = ("spec", "template", "spec") if kind == "Job" else ("spec",)
            priority = reader.get(*spec_path, "priorityClassName", to="team suffix :priority-class")
    reader.skip("status", reason="observed state other than admission and finish times")
    record = _record(str(name), str(namespace), queue, priority, created, start, end, status, podsets, limit, config,
                     out)
    return [_with_reason(record, queue, created)]


def _with_reason(record: JobRecord, queue: Any, created: float | None) -> tuple[JobRecord, str | None]:
    if not queue:
        return record, NO_QUEUE
    if created is None:
        return record, NO_CREATION
    return record, None


def _record(name: str, namespace: str, queue: Any, priority: Any, created: float | None, start: float | None,
            end: float | None, status: str | None, podsets: list[PodSet], limit: float | None, config: KueueConfig,
            out: WorkloadRead) -> JobRecord:
    local = f"{namespace}/{queue}" if queue else ""
    team = f"{local}:{priority}" if priority else local
    gpus = sum(podset.gpus for podset in podsets)
    group, within = _grouping(podsets, _levels_for(local, config), out)
    return JobRecord(name=f"{namespace}/{name}", team=team, gpus=gpus, submit=created if created is not None else 0.0,
                     start=start, end=end, gpus_per_group=group if gpus else None, within_block=within,
                     time_limit_s=limit, queue=local or None,
                     priority=str(priority) if priority else None, status=status)


def _levels_for(local_queue: str, config: KueueConfig) -> tuple[str | None, str | None, list[str]]:
    """(block label, rack label, higher levels) of the topology behind the job's LocalQueue."""
    names = {queue.team: queue.cluster_queue for queue in config.local_queues}
    cluster = next((queue for queue in config.queues if queue.name == names.get(local_queue)), None)
    flavors = list(cluster.quotas) if cluster is not None else list(config.flavors)
    for flavor in flavors:
        spec = config.flavors.get(flavor)
        if spec is not None and spec.topology in config.topologies:
            return levels_of(config.topologies[spec.topology])
    return None, None, []


def _grouping(podsets: list[PodSet], levels: tuple[str | None, str | None, list[str]],
              out: WorkloadRead) -> tuple[int, bool]:
    """(GPUs per NVLink group, whole gang in one block) from the pod sizes and topology requests."""
    block_label, rack_label, higher = levels
    gpu_sets = [podset for podset in podsets if podset.gpus_per_pod > 0]
    if not gpu_sets:
        return 0, False
    group = math.gcd(*(podset.gpus_per_pod for podset in gpu_sets))
    if len({podset.gpus_per_pod for podset in gpu_sets}) > 1:
        out.note("pods of different GPU counts in one workload: its NVLink group is their greatest common divisor")
    total = sum(podset.gpus for podset in gpu_sets)
    within = False

    def scope(level: str | None) -> str | None:
        if level is None:
            return None
        if level in (HOSTNAME, rack_label):
            if level == HOSTNAME and rack_label is not None:
                out.note("required at the node level: kept within one rack (gpufleet places groups per rack)")
            return "rack"
        if level == block_label:
            return "block"
        out.note(f"required topology level {level!r} is not a rack or block level of its flavor's Topology"
                 + (" (levels above block are not modelled)" if level in higher else "") + ": not enforced")
        return None

    scopes = [scope(podset.required) for podset in gpu_sets]
    together = len(gpu_sets) == 1 or (len({podset.group_name for podset in gpu_sets}) == 1
                                      and gpu_sets[0].group_name is not None)
    if all(found == "rack" for found in scopes) and together:
        group = total
    elif all(found == "rack" for found in scopes):
        group = math.gcd(*(podset.gpus for podset in gpu_sets))
    elif "block" in scopes or "rack" in scopes:
        within = "block" in scopes
        if "rack" in scopes:
            out.note("some but not all of a workload's pod sets require one rack: its group is per pod")
    for podset in gpu_sets:
        if podset.slice_level is not None and podset.slice_size:
            if scope(podset.slice_level) == "rack" and total % (podset.slice_size * podset.gpus_per_pod) == 0:
                group = max(group, podset.slice_size * podset.gpus_per_pod)
            elif scope(podset.slice_level) == "block":
                within = True
    if any(podset.preferred for podset in gpu_sets):
        out.note("preferred topology levels: left to best-fit placement (fewest racks, then blocks)")
    if total % group:
        group = math.gcd(total, group)
    return group, within


# -- pod sets ------------------------------------------------------------------------


def _pod_gpus(reader: FieldReader, spec: tuple, gpu_resources: tuple[str, ...]) -> int:
    """GPUs one pod of the template at `spec` asks for: the containers' sum, or the largest init container."""
    data = reader.get(*spec, whole=False) or {}
    sums: dict[str, int] = {}
    for key in ("containers", "initContainers"):
        containers = data.get(key) or []
        if not isinstance(containers, list):
            raise reader.error((*spec, key), "expected a list of containers")
        best = 0
        for c, container in enumerate(containers):
            resources = container.get("resources") or {} if isinstance(container, dict) else {}
            count = 0
            for which in ("requests", "limits"):
                values = resources.get(which) or {}
                for resource in values:
                    path = (*spec, key, c, "resources", which, resource)
                    if resource not in gpu_resources:
                        reader.skip(*path, reason=OTHER_REQUESTS)
                        continue
                    if which == "limits" and "requests" in resources and resource in (resources["requests"] or {}):
                        reader.skip(*path, reason="GPU limits equal the requests (extended resources)")
                        continue
                    value = reader.get(*path, to="GPUs per pod (the job list's gpus)")
                    try:
                        gpus = whole(parse_quantity(value))
                    except ValueError as exc:
                        raise reader.error(path, str(exc)) from None
                    if gpus is None or gpus < 0:
                        raise reader.error(path, f"{value!r} is not a whole number of GPUs")
                    count += gpus
            best = count + best if key == "containers" else max(best, count)
        sums[key] = best
    for key in data:
        if key not in ("containers", "initContainers", "priorityClassName"):
            reader.skip(*spec, key, reason=POD_SPEC)
    for key in ("containers", "initContainers"):
        for c, container in enumerate(data.get(key) or []):
            for name in container:
                if name != "resources":
                    reader.skip(*spec, key, c, name, reason=POD_SPEC)
    return max(sums.get("containers", 0), sums.get("initContainers", 0))


def _annotations(reader: FieldReader, meta: tuple) -> dict[str, Any]:
    annotations = reader.get(*meta, "annotations") or {}
    if not isinstance(annotations, dict):
        raise reader.error((*meta, "annotations"), "expected a mapping")
    found: dict[str, Any] = {}
    for key in (REQUIRED, PREFERRED, UNCONSTRAINED, GROUP_NAME, SLICE_LEVEL, SLICE_SIZE):
        if key in annotations:
            found[key] = reader.get(*meta, "annotations", key, to="the job list's gpus_per_group / within_block")
    return found


def _pod_podset(reader: FieldReader, spec: tuple, meta: tuple, name: str, gpu_resources: tuple[str, ...],
                count: int) -> PodSet:
    annotations = _annotations(reader, meta)
    size = annotations.get(SLICE_SIZE)
    try:
        slice_size = int(size) if size is not None else None
    except ValueError:
        raise reader.error((*meta, "annotations", SLICE_SIZE), f"{size!r} is not a whole number") from None
    return PodSet(name, count, _pod_gpus(reader, spec, gpu_resources), annotations.get(REQUIRED),
                  annotations.get(PREFERRED), annotations.get(GROUP_NAME), annotations.get(SLICE_LEVEL), slice_size)


def _limit(reader: FieldReader, path: tuple) -> float | None:
    value = reader.get(*path, to="the job list's time_limit_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise reader.error(path, f"{value!r} is not a positive number of seconds")
    return float(value)


def _count(reader: FieldReader, path: tuple, default: int, to: str) -> int:
    value = reader.get(*path, to=to)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise reader.error(path, f"{value!r} is not a whole number of pods")
    return value


def _job_podset(reader: FieldReader, job_spec: tuple, name: str, gpu_resources: tuple[str, ...],
                replicas: int = 1) -> PodSet:
    parallelism = _count(reader, (*job_spec, "parallelism"), 1, "pods (the job list's gpus)")
    template = (*job_spec, "template")
    return _pod_podset(reader, (*template, "spec"), (*template, "metadata"), name, gpu_resources,
                       count=parallelism * replicas)


def _jobset_podsets(reader: FieldReader, gpu_resources: tuple[str, ...]) -> list[PodSet]:
    jobs = reader.get("spec", "replicatedJobs") or []
    if not isinstance(jobs, list) or not jobs:
        raise reader.error(("spec", "replicatedJobs"), "a JobSet needs replicatedJobs")
    podsets = []
    for k, job in enumerate(jobs):
        replicas = _count(reader, ("spec", "replicatedJobs", k, "replicas"), 1, "pods (the job list's gpus)")
        reader.get("spec", "replicatedJobs", k, "name", to="pod set name")
        name = str(job.get("name") or f"job-{k}")
        podset = _job_podset(reader, ("spec", "replicatedJobs", k, "template", "spec"), name, gpu_resources, replicas)
        outer = _annotations(reader, ("spec", "replicatedJobs", k, "template", "metadata"))
        podset.required = podset.required or outer.get(REQUIRED)
        podset.preferred = podset.preferred or outer.get(PREFERRED)
        podsets.append(podset)
    return podsets


def _workload_podsets(reader: FieldReader, gpu_resources: tuple[str, ...]) -> list[PodSet]:
    sets = reader.get("spec", "podSets") or []
    if not isinstance(sets, list) or not sets:
        raise reader.error(("spec", "podSets"), "a Workload needs podSets")
    podsets = []
    for k in range(len(sets)):
        where = ("spec", "podSets", k)
        count = _count(reader, (*where, "count"), 1, "pods (the job list's gpus)")
        reader.skip(*where, "minCount", reason="partial admission (fewer pods than count) is not modelled")
        name = str(reader.get(*where, "name", to="pod set name") or "main")
        podset = _pod_podset(reader, (*where, "template", "spec"), (*where, "template", "metadata"), name,
                             gpu_resources, count)
        request = (*where, "topologyRequest")
        podset.required = reader.get(*request, "required", to="gpus_per_group / within_block") or podset.required
        podset.preferred = reader.get(*request, "preferred", to="left to best-fit placement") or podset.preferred
        podset.group_name = reader.get(*request, "podSetGroupName", to="gpus_per_group") or podset.group_name
        podset.slice_level = reader.get(*request, "podSetSliceRequiredTopology", to="gpus_per_group") or \
            podset.slice_level
        podset.slice_size = reader.get(*request, "podSetSliceSize", to="gpus_per_group") or podset.slice_size
        reader.skip(*request, "unconstrained", reason="unconstrained placement is best fit anyway")
        for key in ("podIndexLabel", "subGroupIndexLabel", "subGroupCount"):
            reader.skip(*request, key, reason="pod indexing labels: bookkeeping for the pods' node selectors")
        podsets.append(podset)
    return podsets


def _leader_worker_groups(reader: FieldReader, name: str, namespace: str, queue: Any, priority: Any,
                          created: float | None, config: KueueConfig, gpu_resources: tuple[str, ...],
                          out: WorkloadRead) -> list[tuple[JobRecord, str | None]]:
    replicas = _count(reader, ("spec", "replicas"), 1, "one workload per group")
    template = ("spec", "leaderWorkerTemplate")
    size = _count(reader, (*template, "size"), 1, "pods per group (one leader, size - 1 workers)")
    if size < 1:
        raise reader.error((*template, "size"), "a group has at least one pod (its leader)")
    workers = _pod_podset(reader, (*template, "workerTemplate", "spec"), (*template, "workerTemplate", "metadata"),
                          "workers", gpu_resources, count=size - 1)
    if reader.has(*template, "leaderTemplate"):
        leader = _pod_podset(reader, (*template, "leaderTemplate", "spec"),
                             (*template, "leaderTemplate", "metadata"), "leader", gpu_resources, count=1)
    else:
        leader = PodSet("leader", 1, workers.gpus_per_pod, workers.required, workers.preferred, workers.group_name)
    for key in ("restartPolicy", "subGroupPolicy"):
        reader.skip(*template, key, reason="restarts and sub-groups of a serving group are not modelled")
    for key in ("rolloutStrategy", "startupPolicy", "networkConfig"):
        reader.skip("spec", key, reason="rollout and networking of a serving group are not modelled")
    reader.skip("status", reason="observed state of the serving groups")
    out.note("a LeaderWorkerSet is read as one workload per group: a leader and size - 1 workers")
    records = []
    for index in range(replicas):
        record = _record(f"{name}-{index}", namespace, queue, priority, created, None, None, None,
                         [leader, workers], None, config, out)
        records.append(_with_reason(record, queue, created))
    return records


# -- times ---------------------------------------------------------------------------


def _time(reader: FieldReader, path: tuple, to: str) -> float | None:
    value = reader.get(*path, to=to)
    if value is None:
        return None
    if isinstance(value, datetime):
        return epoch(value)
    try:
        return epoch(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise reader.error(path, f"{value!r} is not a time (RFC 3339, e.g. 2024-05-01T12:00:00Z)") from None


def _conditions(reader: FieldReader, wanted: dict[str, str]) -> dict[str, tuple[float | None, str | None]]:
    """(lastTransitionTime, reason) of each wanted condition type whose status is True (type -> what it gives)."""
    found: dict[str, tuple[float | None, str | None]] = {}
    conditions = reader.get("status", "conditions") or []
    if not isinstance(conditions, list):
        raise reader.error(("status", "conditions"), "expected a list of conditions")
    for k, condition in enumerate(conditions):
        kind = condition.get("type") if isinstance(condition, dict) else None
        where = ("status", "conditions", k)
        if kind not in wanted:
            reader.skip(*where, reason="condition not used (e.g. PodsReady, Evicted, Requeued)")
            continue
        reader.get(*where, "type", to=wanted[kind])
        if str(reader.get(*where, "status", to=wanted[kind])) == "True":
            when = _time(reader, (*where, "lastTransitionTime"), wanted[kind])
            reason = reader.get(*where, "reason", to="the job list's status")
            found[kind] = (when, str(reason) if reason else None)
        reader.skip(*where, reason="condition detail (message, observedGeneration)")
    return found


def _workload_times(reader: FieldReader) -> tuple[float | None, float | None, str | None]:
    found = _conditions(reader, {"QuotaReserved": "the job list's start (without Admitted)",
                                 "Admitted": "the job list's start", "Finished": "the job list's end"})
    start = (found.get("Admitted") or found.get("QuotaReserved") or (None, None))[0]
    end = found["Finished"][0] if "Finished" in found else None  # without a start: when it left the queue
    if "Finished" in found:
        status = (found["Finished"][1] or "finished").lower()
    else:
        status = "running" if start is not None else "pending"
    return start, end, status


def _workload_status(reader: FieldReader, out: WorkloadRead, name: str) -> None:
    reader.get("status", "admission", "clusterQueue", to="the ClusterQueue that admitted it (its LocalQueue's)")
    for k, assignment in enumerate(reader.get("status", "admission", "podSetAssignments") or []):
        for resource in assignment.get("flavors") or {}:
            path = ("status", "admission", "podSetAssignments", k, "flavors", resource)
            if resource in ("nvidia.com/gpu", "amd.com/gpu"):
                out.ran_on[name] = str(reader.get(*path, to="the flavor it ran on (compared in the report)"))
            else:
                reader.skip(*path, reason=OTHER_REQUESTS)
        for key in ("topologyAssignment", "resourceUsage", "count", "name", "delayedTopologyRequest"):
            reader.skip("status", "admission", "podSetAssignments", k, key, reason=PLACEMENT)
    reader.skip("status", "accumulatedPastExecutionTimeSeconds",
                reason="runs before an eviction are not modelled: the run time is from the last admission")
    reader.skip("status", "requeueState", reason="requeueing after eviction is not modelled")


def _workload_priority(reader: FieldReader) -> str | None:
    name = reader.get("spec", "priorityClassName", to="team suffix :priority-class") or \
        reader.get("spec", "priorityClassRef", "name", to="team suffix :priority-class")
    reader.get("spec", "priorityClassSource", to="team suffix :priority-class (either source)")
    reader.get("spec", "priorityClassRef", "group", to="team suffix :priority-class (either group)")
    reader.get("spec", "priorityClassRef", "kind", to="team suffix :priority-class (either kind)")
    value = reader.get("spec", "priority", to="scheduler.priority_classes[].value")
    if not name and value is not None:
        return f"priority-{value}"
    return str(name) if name else None


def _job_times(reader: FieldReader) -> tuple[float | None, float | None, str | None]:
    start = _time(reader, ("status", "startTime"), "the job list's start")
    done = _time(reader, ("status", "completionTime"), "the job list's end")
    found = _conditions(reader, {"Complete": "the job list's end", "Failed": "the job list's end",
                                 "SuccessCriteriaMet": "the job list's end"})
    end = done if done is not None else (found.get("Complete") or found.get("Failed") or (None, None))[0]
    if start is None:
        return None, end, "failed" if end is not None else "pending"
    status = "succeeded" if "Complete" in found or done is not None else "failed" if "Failed" in found else "running"
    return start, end, status


def _jobset_times(reader: FieldReader) -> tuple[float | None, float | None, str | None]:
    conditions = reader.get("status", "conditions") or []
    start = None
    for k, condition in enumerate(conditions if isinstance(conditions, list) else []):
        if isinstance(condition, dict) and condition.get("type") == "Suspended" and \
                str(condition.get("status")) == "False":
            start = _time(reader, ("status", "conditions", k, "lastTransitionTime"), "the job list's start")
            reader.get("status", "conditions", k, "type", to="the job list's start")
            reader.get("status", "conditions", k, "status", to="the job list's start")
    found = _conditions(reader, {"Completed": "the job list's end", "Failed": "the job list's end"})
    end = (found.get("Completed") or found.get("Failed") or (None, None))[0] if start is not None else None
    status = "succeeded" if "Completed" in found else "failed" if "Failed" in found else \
        "running" if start is not None else "pending"
    for key in ("failurePolicy", "successPolicy", "startupPolicy", "network", "suspend", "coordinator"):
        reader.skip("spec", key, reason="JobSet policies are not modelled: the run time is the record's")
    return start, end, status


def _pod_times(reader: FieldReader) -> tuple[float | None, float | None, str | None]:
    start = _time(reader, ("status", "startTime"), "the job list's start")
    phase = reader.get("status", "phase", to="the job list's status")
    end = None
    for k, status in enumerate(reader.get("status", "containerStatuses") or []):
        finished = (status.get("state") or {}).get("terminated", {}).get("finishedAt") if isinstance(status, dict) \
            else None
        if finished is not None:
            when = _time(reader, ("status", "containerStatuses", k, "state", "terminated", "finishedAt"),
                         "the job list's end")
            end = when if end is None or (when is not None and when > end) else end
    if phase not in ("Succeeded", "Failed"):
        end = None
    return start, end, str(phase).lower() if phase else ("running" if start else "pending")


def _label(reader: FieldReader, key: str, to: str) -> str | None:
    value = reader.get("metadata", "labels", key, to=to)
    if value is None:
        value = reader.get("metadata", "annotations", key, to=to)
    return str(value) if value else None
