"""Write workloads.yaml: two days of Kueue Workload objects for the two-cohort GB200 cluster.

No public dump of Kueue Workload objects exists, so this writes one: the cluster's own
configuration (cluster.yaml, nodes.json) imported by gpufleet, four teams submitting a
stated mix of jobs (below) from 2026-04-06 00:00 UTC, run by gpufleet (seed 7), and the
result written as `kubectl get workloads -A -o yaml` would show it at 18:00 the next day:
finished workloads with QuotaReserved/Admitted/Finished conditions, running ones
admitted, pending ones without admission. Run from the repository root:

    .venv/bin/python tests/interop/data/two-cohorts/make_workloads.py

The output is committed; this script only documents how it was made.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from gpufleet import api
from gpufleet.interop.kueue import import_kueue
from gpufleet.spec.scenario import Scenario

HERE = Path(__file__).parent
START = datetime(2026, 4, 6)
DUMP = START + timedelta(hours=42)
# team (namespace/local-queue:priority-class) -> arrivals per day and the size mix:
# (pods of 4 GPUs, weight, median hours, topology: rack | block | none)
TEAMS = {
    "vision/main:standard": (30, [(2, 0.4, 1.5, "rack"), (8, 0.4, 3.0, "rack"), (32, 0.2, 4.0, "block")]),
    "language/main:standard": (24, [(4, 0.5, 2.0, "rack"), (16, 0.35, 3.0, "rack"), (36, 0.15, 5.0, "block")]),
    "training/main:critical": (8, [(18, 0.6, 4.0, "rack"), (36, 0.4, 6.0, "block")]),
    "inference/main:standard": (40, [(1, 0.7, 0.5, "none"), (2, 0.3, 1.0, "rack")]),
    "vision/main:preemptible": (20, [(1, 0.6, 0.75, "none"), (4, 0.4, 2.0, "rack")]),
}


def scenario(base: Scenario) -> Scenario:
    data = base.model_dump(mode="json", exclude={"workloads"})
    data["start"], data["end"] = START.isoformat(), DUMP.isoformat()
    workloads = []
    for team, (rate, sizes) in TEAMS.items():
        local, _, cls = team.partition(":")
        for queue in data["scheduler"]["queues"]:
            if local in queue["tenants"]:
                queue["tenants"].append(team)
        for entry in data["scheduler"]["priority_classes"]:
            if entry["name"] == cls:
                entry["teams"].append(team)
        workloads.append({"synthetic": {
            "name": team.replace("/", "-").replace(":", "-"), "team": team, "arrivals": {"rate_per_day": rate},
            "time_limit_hours": 24,
            "sizes": [{"gpus": pods * 4, "weight": weight, "group_size": pods * 4 if where == "rack" else 4,
                       "within_block": where == "block",
                       "duration": {"dist": "lognormal", "median_hours": hours, "sigma": 0.8}}
                      for pods, weight, hours, where in sizes]}})
    data["workloads"] = workloads
    return Scenario.model_validate(data)


def workload(row: dict, team: str) -> dict:
    local, _, cls = team.partition(":")
    namespace, queue = local.split("/")
    pods = row["gpus"] // 4
    request: dict = {}
    if row["within_block"]:
        request["required"] = "example.com/topology-block"
    elif row["group_size"] == row["gpus"] and pods > 1:
        request["required"] = "example.com/topology-rack"
    submit = START + timedelta(seconds=row["submit_s"])
    name = f"job-{row['name'].rsplit('-', 1)[-1]}-{row['job_id']:04d}"
    podset = {"name": "main", "count": pods, "template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "main", "image": f"registry.example.com/{namespace}:2026.04",
         "resources": {"requests": {"cpu": str(16 * 4 // 4), "nvidia.com/gpu": "4"}}}]}}}
    if request:
        podset["topologyRequest"] = request
    values = {"critical": 10000, "standard": 100, "preemptible": 1}
    obj = {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
           "metadata": {"name": name, "namespace": namespace, "creationTimestamp": _z(submit)},
           "spec": {"queueName": queue, "priorityClassRef": {"group": "kueue.x-k8s.io",
                                                              "kind": "WorkloadPriorityClass", "name": cls},
                    "priority": values[cls], "podSets": [podset]}}
    conditions = []
    start = row["start_s"]
    if start is not None and start == start and START + timedelta(seconds=start) <= DUMP:
        admitted = START + timedelta(seconds=start)
        conditions += [{"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved",
                        "message": "Quota reserved in ClusterQueue", "lastTransitionTime": _z(admitted)},
                       {"type": "Admitted", "status": "True", "reason": "Admitted",
                        "message": "The workload is admitted", "lastTransitionTime": _z(admitted)}]
        end = row["end_s"]
        if end is not None and end == end and START + timedelta(seconds=end) <= DUMP:
            conditions.append({"type": "Finished", "status": "True", "reason": "Succeeded",
                               "message": "Job finished successfully",
                               "lastTransitionTime": _z(START + timedelta(seconds=end))})
        obj["status"] = {"admission": {"clusterQueue": row["queue"], "podSetAssignments": [
            {"name": "main", "count": pods, "flavors": {"nvidia.com/gpu": "gb200"}}]}, "conditions": conditions}
    else:
        obj["status"] = {"conditions": [{"type": "QuotaReserved", "status": "False", "reason": "Pending",
                                         "message": "couldn't assign flavors to pod set main",
                                         "lastTransitionTime": _z(submit)}]}
    return obj


def _z(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat() + "Z"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        imported = import_kueue([HERE / "cluster.yaml"], Path(folder) / "x.yaml", nodes=HERE / "nodes.json")
        from gpufleet.interop.scenario import write_import
        from gpufleet.sim.load import load_scenario

        base = write_import(imported, Path(folder) / "x.yaml", load_scenario)
    result = api.run(scenario(base), seed=7)
    print(f"utilisation {result.summary['capacity']['utilisation']:.1%}, mean wait "
          f"{result.summary['jobs']['wait']['mean_h']:.2f} h")
    rows = [row for row in result.jobs.to_pylist() if START + timedelta(seconds=row["submit_s"]) <= DUMP]
    items = [workload(row, row["team"]) for row in rows]
    header = ("# Two days of Kueue Workload objects (v1beta2) on the two-cohort GB200 cluster, as\n"
              "# `kubectl get workloads -A -o yaml` would show them at 2026-04-07T18:00:00Z. Written by\n"
              "# make_workloads.py (a gpufleet run of a stated job mix; see it for how).\n")
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}, sort_keys=False, width=1000)
    (HERE / "workloads.yaml").write_text(header + text)
    print(f"{len(items)} workloads")


if __name__ == "__main__":
    main()
