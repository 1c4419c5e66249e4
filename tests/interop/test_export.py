"""Export back to Kueue and Slurm: import(export(s)) == s on the subset each format can say."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.interop.export import export_kueue, export_slurm
from gpufleet.interop.kueue import import_kueue
from gpufleet.interop.slurm import import_slurm
from gpufleet.spec.scenario import Scenario

START = datetime(2026, 1, 1)
TYPES = ["gb200", "h100", "a100", "mi300x"]


def fleet(draw: Any, types: list[str], nodes_per_rack: st.SearchStrategy, per_block: Any) -> tuple[list, dict]:
    pools, gpus = [], {}
    for kind in types:
        per_node = draw(st.sampled_from([1, 2, 4, 8]))
        racks = draw(st.integers(1, 6))
        rack_nodes = draw(nodes_per_rack)
        pools.append({"name": kind, "gpu": kind, "gpus_per_node": per_node, "nodes_per_rack": rack_nodes,
                      "racks_per_block": per_block(draw, racks),
                      "deliveries": [{"date": "2026-01-01", "racks": racks}]})
        gpus[kind] = racks * rack_nodes * per_node
    return pools, gpus


@st.composite
def kueue_scenarios(draw: Any) -> Scenario:
    types = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True))
    pools, gpus = fleet(draw, types, st.sampled_from([1, 2, 4]), lambda d, racks: d(st.integers(1, racks)))
    cohorts: list[dict] = []
    for name in draw(st.lists(st.sampled_from(["org", "research", "prod"]), max_size=3, unique=True)):
        parent = draw(st.sampled_from([None] + [c["name"] for c in cohorts]))
        cohorts.append({"name": name, **({"parent": parent} if parent else {})})
    n_queues = draw(st.integers(1, 3))
    room = {kind: total // (n_queues + len(cohorts) + 1) for kind, total in gpus.items()}
    queues = []
    for k in range(n_queues):
        nominal = {kind: draw(st.integers(0, room[kind])) for kind in types}
        queue: dict[str, Any] = {"name": f"q{k}", "tenants": sorted({f"ns{k}/lq{j}" for j in range(draw(st.integers(
            1, 2)))}), "nominal": nominal}
        cohort = draw(st.sampled_from([None, "loose"] + [c["name"] for c in cohorts]))
        if cohort:
            queue["cohort"] = cohort
        borrow = {kind: draw(st.integers(0, 16)) for kind in types if draw(st.booleans())}
        lend = {kind: draw(st.integers(0, nominal[kind])) for kind in types if draw(st.booleans())}
        if borrow:
            queue["borrowing_limit"] = borrow
        if lend:
            queue["lending_limit"] = lend
        queue["queueing_strategy"] = draw(st.sampled_from(["StrictFIFO", "BestEffortFIFO"]))
        queue["preemption"] = {
            "within_cluster_queue": draw(st.sampled_from(["Never", "LowerPriority", "LowerOrNewerEqualPriority"])),
            "reclaim_within_cohort": draw(st.sampled_from(["Never", "LowerPriority", "Any"])),
            "borrow_within_cohort": draw(st.sampled_from(["Never", "LowerPriority"]))}
        queue["fair_share"] = {"weight": draw(st.sampled_from([0.5, 1.0, 2.0, 3.25]))}
        queues.append(queue)
    for cohort in cohorts:
        if draw(st.booleans()):
            queues.append({"name": f"cohort/{cohort['name']}", "tenants": [], "cohort": cohort["name"],
                           "nominal": {kind: draw(st.integers(0, room[kind])) for kind in types}})
    classes = [{"name": name, "value": draw(st.integers(-10, 10**6))}
               for name in draw(st.lists(st.sampled_from(["high", "low", "batch"]), max_size=3, unique=True))]
    policy = draw(st.sampled_from(["priority", "drf"]))
    scheduler: dict[str, Any] = {"policy": policy, "backfill": "greedy", "queues": queues, "cohorts": cohorts,
                                 "priority_classes": classes}
    if policy == "drf" and draw(st.booleans()):
        scheduler["fair_share"] = {"half_life_hours": draw(st.sampled_from([1.5, 24.0, 168.0]))}
    return Scenario.model_validate({
        "name": "round-trip", "start": START, "end": datetime(2026, 1, 8),
        "gpu_types": {kind: {"gpus_per_node": pool["gpus_per_node"], "nvlink_domain_gpus": pool["gpus_per_node"]}
                      for kind, pool in zip(types, pools, strict=True)},
        "fleet": {"pools": pools}, "scheduler": scheduler})


@st.composite
def slurm_scenarios(draw: Any) -> Scenario:
    block = draw(st.booleans())
    types = [draw(st.sampled_from(TYPES))] if block else draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3,
                                                                         unique=True))
    pools, gpus = fleet(draw, types, st.sampled_from([2, 4]) if block else st.just(1),
                        (lambda d, racks: d(st.sampled_from([1, 2, 4]))) if block else
                        (lambda d, racks: d(st.integers(1, racks))))
    n = draw(st.integers(1, 3))
    default = draw(st.integers(0, n - 1))
    tiers = [draw(st.integers(0, 3)) for _ in range(n)]
    queues = []
    for k in range(n):
        mine = draw(st.lists(st.sampled_from(types), min_size=1, unique=True))
        queues.append({"name": f"part{k}", "tenants": [f"part{k}"] + (["*"] if k == default else []),
                       "nominal": {kind: gpus[kind] for kind in types if kind in mine}})
    scheduler: dict[str, Any] = {"policy": "fifo", "backfill": draw(st.sampled_from(["easy", "none"])),
                                 "max_job_test": draw(st.sampled_from([500, 2500])), "queues": queues}
    if len(set(tiers)) > 1:
        scheduler["policy"] = "priority"
        scheduler["priority_classes"] = [{"name": f"part{k}".join(["partition-", ""]), "value": tier,
                                          "teams": [f"part{k}"]} for k, tier in enumerate(tiers)]
    return Scenario.model_validate({
        "name": "round-trip", "start": START, "end": datetime(2026, 1, 8),
        "gpu_types": {kind: {"gpus_per_node": pool["gpus_per_node"], "nvlink_domain_gpus": pool["gpus_per_node"]}
                      for kind, pool in zip(types, pools, strict=True)},
        "fleet": {"pools": pools}, "scheduler": scheduler})


def modelled(scenario: Scenario) -> dict[str, Any]:
    """What both formats carry: pool shapes, GPU type names, and the scheduler section."""
    pools = [(pool.name, pool.gpu, pool.gpus_per_node, pool.nodes_per_rack,
              min(pool.racks_per_block, sum(change.racks for change in pool.deliveries)),
              sum(change.racks for change in pool.deliveries)) for pool in scenario.fleet.pools]
    return {"pools": sorted(pools), "types": sorted(name.upper() for name in scenario.gpu_types),
            "scheduler": scenario.scheduler.model_dump()}


def round_trip(scenario: Scenario, export: Any, read: Any) -> Scenario:
    with tempfile.TemporaryDirectory() as folder:
        exported = export(scenario)
        for name, text in exported.files.items():
            (Path(folder) / name).write_text(text)
        imported = read(Path(folder))
        data = dict(imported.scenario)
        data["start"], data["end"] = scenario.start, scenario.end
        return Scenario.model_validate(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kueue_scenarios())
def test_kueue_round_trip(scenario: Scenario) -> None:
    back = round_trip(scenario, export_kueue,
                      lambda folder: import_kueue(sorted(folder.glob("*.yaml")), folder / "x.yaml", start=START))
    assert modelled(back) == modelled(scenario)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slurm_scenarios())
def test_slurm_round_trip(scenario: Scenario) -> None:
    back = round_trip(scenario, export_slurm,
                      lambda folder: import_slurm(folder / "x.yaml", conf=folder / "slurm.conf",
                                                  topology=folder / "topology.conf", start=START))
    assert modelled(back) == modelled(scenario)


def test_exports_say_what_they_cannot_carry() -> None:
    from gpufleet import api

    kueue = export_kueue(api.load("research-lab"))
    assert any("workloads and services are not exported" in note for note in kueue.notes)
    slurm = export_slurm(api.load("kueue-cohort"))
    assert any("cohorts and borrowing are not Slurm partition settings" in note for note in slurm.notes)
    assert "PartitionName=" in slurm.files["slurm.conf"]
