"""`gpufleet import kueue` on Kueue's own example files (../shared/interop/kueue) and hand-written ones.

Every shared file is imported alone (most hold no GPU capacity and are refused, saying
why) and in combinations that make a cluster; each imported scenario validates and runs,
and its import report is checked field by field.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.interop.kueue import import_kueue
from gpufleet.interop.scenario import write_import
from gpufleet.sched.quota import QuotaBook
from gpufleet.sim.load import load_scenario

REFUSED = {
    "kueue-docs_cluster_queue_lending-limit.yaml": "their quotas are on: cpu",
    "kueue-docs_cohort_hierarchical-fairsharing.yaml": "no GPU capacity to simulate",
    "kueue_serving_sample-leaderworkerset-tas.yaml": "no GPU capacity to simulate",
    "kueue_tas_sample-job-preferred.yaml": "no GPU capacity to simulate",
    "kueueviz_01-cluster-queues.yaml": "their quotas are on: cpu, gpu, memory",
    "kueueviz_04-llm-job.yaml": "no GPU capacity to simulate",
    "kueueviz_07-workload-priority-classes.yaml": "no GPU capacity to simulate",
    "mlbatch_kueue_controller_manager_config.yaml": "no GPU capacity to simulate",
}


def imported_and_run(tmp_path: Path, files: list[Path], **options: object):  # noqa: ANN201
    """Import, write, load and run a day; return (imported, scenario, result)."""
    imported = import_kueue(files, tmp_path / "cluster.yaml", **options)
    scenario = write_import(imported, tmp_path / "cluster.yaml", load_scenario)
    result = api.run(scenario, until=scenario.start + timedelta(days=1))
    return imported, scenario, result


def row(report, kind: str, field: str) -> dict:  # noqa: ANN001
    found = [entry for entry in report.fields if entry["kind"] == kind and entry["field"] == field]
    assert len(found) == 1, (kind, field, found)
    return found[0]


def outcomes(report, kind: str, field: str) -> dict:  # noqa: ANN001
    """(mapped to, not modelled because) -> objects, for one field of one kind."""
    return {(entry["mapped_to"], entry["not_modelled"]): entry["objects"] for entry in report.fields
            if entry["kind"] == kind and entry["field"] == field}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_without_gpu_capacity_are_refused(interop: Path, tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError) as error:
        import_kueue([interop / "kueue" / name], tmp_path / "x.yaml")
    message = str(error.value)
    assert REFUSED[name] in message and "CPU and memory are not scheduled" in message
    assert str(interop / "kueue" / name) in message


def test_tas_sample_alone_sizes_the_fleet_from_quota(interop: Path, tmp_path: Path) -> None:
    imported, scenario, result = imported_and_run(tmp_path, [interop / "kueue" / "kueue_tas_sample-gpu-queues.yaml"])
    (pool,) = scenario.fleet.pools
    assert (pool.gpu, pool.gpus_per_node, pool.deliveries[0].racks) == ("tas-flavor", 8, 2)  # 16 GPUs of quota
    (queue,) = scenario.scheduler.queues
    assert (queue.name, queue.tenants, queue.nominal) == ("tas-cluster-queue", ["default/tas-user-queue"],
                                                         {"tas-flavor": 16})
    report = imported.report
    assert report.objects == {"ClusterQueue": 1, "LocalQueue": 1, "ResourceFlavor": 1, "Topology": 1}
    assert outcomes(report, "ClusterQueue", "spec.resourceGroups[].flavors[].resources[].nominalQuota") == {
        ("scheduler.queues[].nominal[tas-flavor]", None): 1,
        (None, "quota on cpu: only GPU resources are scheduled"): 1,
        (None, "quota on memory: only GPU resources are scheduled"): 1}
    assert row(report, "ResourceFlavor", "spec.tolerations[].key")["objects"] == 1
    assert len(report.not_modelled()) == 9
    assert any("8 GPUs per node (assumption" in note for note in report.notes)
    assert result.summary["jobs"]["total"] == 0


def test_tas_cluster_with_nodes_and_workloads(interop: Path, data: Path, tmp_path: Path) -> None:
    files = [interop / "kueue" / "kueue_tas_sample-gpu-queues.yaml", data / "tas-priorities.yaml"]
    imported, scenario, result = imported_and_run(
        tmp_path, files, nodes=data / "tas-nodes.json",
        workloads=[data / "workloads-v1beta2.yaml", data / "workloads-v1beta1.yaml", data / "jobs-with-status.yaml"])
    (pool,) = scenario.fleet.pools
    # 2 blocks x 2 racks x 2 trays of 4 GB200 GPUs (the spare node matches no flavor; the CPU node has no GPU)
    assert (pool.gpus_per_node, pool.nodes_per_rack, pool.racks_per_block, pool.deliveries[0].racks) == (4, 2, 2, 4)
    assert scenario.gpu_types["tas-flavor"].list_price_usd_per_gpu_hour == 10.58  # catalog GB200 by product label
    report = imported.report
    assert report.objects == {"ClusterQueue": 1, "Deployment": 1, "Job": 2, "JobSet": 1, "LocalQueue": 1, "Node": 10,
                              "Pod": 1, "ResourceFlavor": 1, "Topology": 1, "Workload": 9,
                              "WorkloadPriorityClass": 2}
    jobs = report.jobs
    assert (jobs["rows"], jobs["kept"], jobs["bad_rows"]) == (13, 11, 0)
    assert jobs["left_out"] == {"deactivated (spec.active: false): it is never admitted": 1,
                                "its LocalQueue is not in the configuration read": 1}
    assert row(report, "Deployment", "(whole object)")["not_modelled"].startswith("kind Deployment is not modelled")
    assert row(report, "Node", "status.images")["objects"] == 10
    assert row(report, "Workload", "spec.podSets[].minCount")["objects"] == 1
    assert row(report, "Workload", "spec.queueName")["objects"] == 9
    assert row(report, "Workload", "status.accumulatedPastExecutionTimeSeconds")["objects"] == 1
    assert any("1 GPU nodes match no ResourceFlavor" in note for note in report.notes)
    tenants = scenario.scheduler.queues[0].tenants
    assert tenants == ["default/tas-user-queue", "default/tas-user-queue:high", "default/tas-user-queue:low"]
    assert {cls.name: (cls.value, cls.teams) for cls in scenario.scheduler.priority_classes} == {
        "high": (1000, ["default/tas-user-queue:high"]), "low": (10, ["default/tas-user-queue:low"])}
    rows = {row["name"]: row for row in result.jobs.to_pylist()}
    # the 7 finished GPU workloads replay; running, pending and CPU-only ones are left out
    assert set(rows) == {"default/job-train-a-3f2c1", "default/lws-serve-d-0-9c0f1", "default/job-sweep-h-2b7c0",
                         "default/job-infer-i-8f8f8", "default/finetune-j", "default/multislice-l",
                         "default/notebook-m"}
    assert (rows["default/job-train-a-3f2c1"]["gpus"], rows["default/job-train-a-3f2c1"]["group_size"]) == (8, 8)
    assert rows["default/job-sweep-h-2b7c0"]["group_size"] == 4  # v1beta1 annotation: 2 pods x 2 GPUs, one rack
    assert rows["default/job-infer-i-8f8f8"]["gpus"] == 8  # an init container of 8 GPUs outweighs 4
    assert rows["default/multislice-l"]["group_size"] == 2  # 2 replicas x 2 pods x 2 GPUs, per pod
    assert rows["default/lws-serve-d-0-9c0f1"]["priority"] == 1000
    assert rows["default/job-train-a-3f2c1"]["run_s"] == 3600.0 and rows["default/finetune-j"]["run_s"] == 1800.0


def test_lending_limit_example_maps_quota_as_kueue_documents_it(interop: Path, tmp_path: Path) -> None:
    """Kueue's docs: team-a-cq (9) and team-b-cq (12, lendingLimit 1) in cohort team-ab: team-a can use at
    most 9 + 1. Read with cpu counted as the scheduled resource."""
    example = interop / "kueue" / "kueue-docs_cluster_queue_lending-limit.yaml"
    imported, scenario, _ = imported_and_run(tmp_path, [example], gpu_resources=("cpu",))
    queues = {queue.name: queue for queue in scenario.scheduler.queues}
    assert queues["team-a-cq"].nominal == {"default-flavor": 9} and queues["team-a-cq"].cohort == "team-ab"
    assert queues["team-b-cq"].lending_limit == {"default-flavor": 1}
    book = QuotaBook(scenario.scheduler.queues, scenario.scheduler.cohorts, ["default-flavor"])
    assert book.fits(0, 0, 10) and not book.fits(0, 0, 11)
    assert book.fits(1, 0, 21) and not book.fits(1, 0, 22)  # team-a lends all its 9 unused: team-b may use 21
    assert row(imported.report, "ClusterQueue", "spec.namespaceSelector")["objects"] == 2
    assert any("rounded up to 3 nodes of 8" in note for note in imported.report.notes)


def test_hierarchical_cohorts(interop: Path, data: Path, tmp_path: Path) -> None:
    imported, scenario, _ = imported_and_run(
        tmp_path, [interop / "kueue" / "kueue-docs_cohort_hierarchical-fairsharing.yaml", data / "hier-queues.yaml"])
    assert [(cohort.name, cohort.parent) for cohort in scenario.scheduler.cohorts] == [
        ("root-cohort", None), ("important-org", "root-cohort"), ("regular-org", "root-cohort")]
    queues = {queue.name: queue for queue in scenario.scheduler.queues}
    assert queues["ml-important"].borrowing_limit == {"h100": 8} and queues["ml-regular"].lending_limit == {"h100": 4}
    assert row(imported.report, "Cohort", "spec.fairSharing.weight")["objects"] == 2
    assert "not modelled" in row(imported.report, "Cohort", "spec.fairSharing.weight")["not_modelled"]
    book = QuotaBook(scenario.scheduler.queues, scenario.scheduler.cohorts, ["h100"])
    # one pool at the root: ml-important may use 24 + 8; ml-regular lends at most 4 of its 8
    assert book.fits(0, 0, 28) and not book.fits(0, 0, 29)
    assert scenario.gpu_types["h100"].hbm_gb == 80 and scenario.fleet.pools[0].deliveries[0].racks == 4


def test_kueueviz_queues_with_nodes_priorities_and_controller_config(interop: Path, data: Path,
                                                                     tmp_path: Path) -> None:
    kueue = interop / "kueue"
    files = [kueue / "kueueviz_01-cluster-queues.yaml", kueue / "kueueviz_07-workload-priority-classes.yaml",
             kueue / "kueueviz_04-llm-job.yaml", kueue / "mlbatch_kueue_controller_manager_config.yaml"]
    imported, scenario, _ = imported_and_run(tmp_path, files, nodes=data / "tas-nodes.json")
    spec = scenario.scheduler
    assert spec.policy.name == "drf"  # fairSharing.enable in the controller's Configuration
    queues = {queue.name: queue for queue in spec.queues}
    assert set(queues) == {"emergency-cluster-queue", "agi-cluster-queue", "llm-cluster-queue", "unused-cluster-queue"}
    rules = queues["emergency-cluster-queue"].preemption
    assert (rules.within_cluster_queue, rules.reclaim_within_cohort, rules.borrow_within_cohort) == (
        "LowerPriority", "Any", "LowerPriority")
    assert all(queue.nominal == {} for queue in spec.queues)  # cpu, memory and a resource called "gpu"
    assert {cls.name: cls.value for cls in spec.priority_classes} == {
        "human-critical": 1000000, "business-impacting": 1000, "long-term-research": 1}
    report = imported.report
    assert row(report, "ClusterQueue", "spec.flavorFungibility.whenCanBorrow")["objects"] == 3
    assert row(report, "Configuration", "waitForPodsReady.enable")["objects"] == 1
    assert report.jobs["left_out"] == {"no creationTimestamp: a manifest, not a record of a submission (ask "
                                       "`gpufleet admit` when it would start)": 1}
    # the resource named "gpu" is a size (1Gi) when read as GPUs: refused, naming the field
    with pytest.raises(InputError, match=r"kueueviz_01-cluster-queues.yaml:31: spec.resourceGroups\[1\]"):
        import_kueue(files, tmp_path / "y.yaml", gpu_resources=("gpu",))


def test_leaderworkerset_and_job_manifests_are_submissions_not_records(interop: Path, data: Path,
                                                                         tmp_path: Path) -> None:
    kueue = interop / "kueue"
    imported, _, _ = imported_and_run(tmp_path, [kueue / "kueue_tas_sample-gpu-queues.yaml",
                                                 kueue / "kueue_serving_sample-leaderworkerset-tas.yaml",
                                                 kueue / "kueue_tas_sample-job-preferred.yaml"],
                                      nodes=data / "tas-nodes.json")
    jobs = imported.report.jobs
    assert jobs["rows"] == 3 and jobs["kept"] == 0  # 2 LeaderWorkerSet groups and a Job, none with a creation time
    assert row(imported.report, "LeaderWorkerSet", "spec.leaderWorkerTemplate.size")["objects"] == 1


def test_v1beta1_and_v1beta2_spellings_agree(tmp_path: Path) -> None:
    def cluster(version: str, cohort_key: str, parent_key: str) -> Path:
        path = tmp_path / f"{version}.yaml"
        path.write_text(f"""apiVersion: kueue.x-k8s.io/{version}
kind: Cohort
metadata: {{name: child}}
spec: {{{parent_key}: root}}
---
apiVersion: kueue.x-k8s.io/{version}
kind: ClusterQueue
metadata: {{name: q}}
spec:
  {cohort_key}: child
  preemption: {{borrowWithinCohort: {{policy: LowerPriority, maxPriorityThreshold: 100}}}}
  resourceGroups:
  - coveredResources: [nvidia.com/gpu]
    flavors:
    - name: a100
      resources: [{{name: nvidia.com/gpu, nominalQuota: 8, borrowingLimit: "4"}}]
""")
        return path

    old = import_kueue([cluster("v1beta1", "cohort", "parent")], tmp_path / "a.yaml").scenario
    new = import_kueue([cluster("v1beta2", "cohortName", "parentName")], tmp_path / "b.yaml").scenario
    assert old["scheduler"] == new["scheduler"] and old["fleet"] == new["fleet"]
    assert new["scheduler"]["queues"][0]["cohort"] == "child"
    assert new["scheduler"]["cohorts"] == [{"name": "child", "parent": "root"}]


@pytest.mark.parametrize(("text", "problem"), [
    ("apiVersion: v1\nmetadata: {name: x}\n", ":1: kind: document 1 (object x): a Kubernetes object needs kind"),
    ("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueu\nmetadata: {name: x}\n",
     ":2: kind: document 1 (ClusterQueu x): unknown Kueue kind 'ClusterQueu'"),
    ("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: x}\nspec:\n  resourceGroups:\n"
     "  - coveredResources: [nvidia.com/gpu]\n    flavors:\n    - name: f\n      resources:\n"
     "      - {name: nvidia.com/gpu, nominalQuota: 1.5}\n",
     ":10: spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: document 1 (ClusterQueue x): 1.5 is not a "
     "whole number of GPUs"),
    ("apiVersion: kueue.x-k8s.io/v1beta2\nkind: LocalQueue\nmetadata: {name: q}\nspec: {}\n",
     "spec.clusterQueue: document 1 (LocalQueue q): a LocalQueue must name its ClusterQueue"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
     "nothing to import: no Kueue configuration, node or workload object (found 1 Deployment)"),
    ("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: x}\nspec:\n  queueingStrategy: Fast\n",
     ":5: spec.queueingStrategy: document 1 (ClusterQueue x): 'Fast' is not StrictFIFO or BestEffortFIFO"),
])
def test_bad_objects_name_file_line_document_and_field(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        import_kueue([path], tmp_path / "out.yaml")
    assert problem in str(error.value)


def test_quota_over_the_cluster(interop: Path, data: Path, tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.json"
    nodes.write_text('{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Node", "metadata": '
                     '{"name": "n1", "labels": {"cloud.provider.com/node-group": "tas-group"}}, "status": '
                     '{"allocatable": {"nvidia.com/gpu": "8"}}}]}')
    queues = interop / "kueue" / "kueue_tas_sample-gpu-queues.yaml"
    with pytest.raises(InputError) as error:
        import_kueue([queues], tmp_path / "x.yaml", nodes=nodes)
    assert str(error.value) == (
        f"{queues}:40: spec.resourceGroups[0].flavors[0].resources[2].nominalQuota: document 3 (ClusterQueue "
        "tas-cluster-queue): nominal quota of flavor 'tas-flavor' over all ClusterQueues and Cohorts reaches 16 GPUs "
        "here, but the nodes of that flavor have 8 (the quota is over the cluster; --allow-overcommit to import it "
        "anyway)")
    imported = import_kueue([queues], tmp_path / "x.yaml", nodes=nodes, allow_overcommit=True)
    assert any("imported as given (--allow-overcommit)" in note for note in imported.report.notes)
