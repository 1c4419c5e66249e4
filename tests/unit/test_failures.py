"""Hand-worked failures: what a failure costs a job, hot spares, restart budgets, advice."""

from __future__ import annotations

import math

import pytest

from gpufleet import api
from gpufleet.failures.advice import checkpoint_advice
from gpufleet.fleet.state import FleetState
from gpufleet.sim.build import build
from gpufleet.sim.simulation import Simulation
from gpufleet.testing import scenario

H = 3600.0


def run(nodes_per_rack: int, injected: list[dict], checkpointing: dict, spares: int = 0, racks: int = 2,
        gpus: int = 8, hours: float = 10):  # noqa: ANN201
    fleet = {"pools": [{"name": "p", "gpu": "H100", "gpus_per_node": 4, "nodes_per_rack": nodes_per_rack,
                        "deliveries": [{"date": "2026-01-01", "racks": racks}]}]}
    jobs = [{"jobs": {"name": "j", "items": [{"name": "job", "gpus": gpus, "group_size": 4, "duration_hours": hours}]}}]
    failures = {"injected": injected, "spares": {"nodes_per_rack": spares}}
    spec = scenario(fleet, jobs, end="2026-01-03", failures=failures, checkpointing=checkpointing)
    result = api.run(spec)
    return result.jobs.to_pylist()[0], result


def run_named(nodes_per_rack: int, racks: int, items: list[dict], injected: list[dict], end: str,
              checkpointing: dict, spares: int = 0):  # noqa: ANN201
    """Named jobs on racks of `nodes_per_rack` 4-GPU nodes; returns (rows by job name, result)."""
    fleet = {"pools": [{"name": "p", "gpu": "H100", "gpus_per_node": 4, "nodes_per_rack": nodes_per_rack,
                        "deliveries": [{"date": "2026-01-01", "racks": racks}]}]}
    spec = scenario(fleet, [{"jobs": {"name": "j", "items": items}}], end=end,
                    failures={"injected": injected, "spares": {"nodes_per_rack": spares}},
                    checkpointing=checkpointing)
    result = api.run(spec)
    return {row["name"]: row for row in result.jobs.to_pylist()}, result


def node_failure(at_h: float, rack: int = 0, node: int = 0, repair_h: float = 2.0) -> dict:
    return {"date": f"2026-01-01T{int(at_h):02d}:{int(at_h % 1 * 60):02d}:00", "pool": "p", "rack": rack,
            "node": node, "component": "node", "repair_hours": repair_h}


def test_a_failure_costs_the_work_since_the_last_checkpoint_and_a_restart() -> None:
    # 10 h of work, a checkpoint every 2 h of work taking 6 min, restart overhead 15 min.
    # The failure at 5 h: two cycles of 2 h 6 min done (4 h kept), 0.8 h of work lost.
    # The job restarts at once on other racks: 15 min + 6 h of work + 2 writes = 6.45 h.
    checkpointing = {"interval_hours": 2, "write_minutes": 6, "restart_overhead_minutes": 15}
    job, result = run(1, [node_failure(5)], checkpointing, racks=4)
    assert job["interruptions"] == 1 and job["preemptions"] == 0 and job["status"] == "completed"
    assert job["end_s"] == pytest.approx((5 + 6.45) * H)
    gpus = 8
    assert job["lost_gpu_hours"] == pytest.approx(0.8 * gpus)
    assert job["overhead_gpu_hours"] == pytest.approx(0.25 * gpus)
    assert job["checkpoint_gpu_hours"] == pytest.approx(0.4 * gpus)
    assert job["productive_gpu_hours"] == pytest.approx(10 * gpus)
    # Every hour held is productive, lost, restarting or checkpointing.
    held = job["run_s"] / H * gpus
    assert held == pytest.approx(job["productive_gpu_hours"] + job["lost_gpu_hours"] + job["overhead_gpu_hours"]
                                 + job["checkpoint_gpu_hours"])
    assert job["ettr"] == pytest.approx(10 / 11.45)
    failure = result.failures.to_pylist()[0]
    assert failure["jobs_hit"] == 1 and failure["repaired_s"] == pytest.approx(7 * H)
    assert result.summary["failures"]["interruptions"] == 1


def test_failed_hardware_waits_for_its_repair() -> None:
    # One rack only: the job needs it whole, so it waits for the 2 h repair, then restarts.
    checkpointing = {"interval_hours": 1, "restart_overhead_minutes": 0}
    job, result = run(2, [node_failure(3)], checkpointing, racks=1)
    assert job["end_s"] == pytest.approx((3 + 2 + 7) * H)
    in_repair = result.timeseries["gpus_in_repair"].to_pylist()
    assert in_repair[3] == 4 and in_repair[4] == 4 and in_repair[5] == 0


def test_a_hot_spare_restarts_the_job_in_place() -> None:
    # Racks of 3 nodes, one a spare: the job (8 GPUs = 2 nodes) fits in one rack's 2
    # working nodes. The failed node is swapped for the spare: no trip through the queue.
    checkpointing = {"interval_hours": 1, "restart_overhead_minutes": 6}
    job, result = run(3, [node_failure(2.5)], checkpointing, spares=1, racks=1)
    failure = result.failures.to_pylist()[0]
    assert failure["spare_used"] and job["interruptions"] == 1
    assert job["end_s"] == pytest.approx((2.5 + 0.1 + 8) * H)  # kept 2 h, lost 0.5 h, 6 min restart
    assert result.summary["failures"]["spare_swaps"] == 1


def test_a_spare_swap_brings_back_the_gpus_already_in_repair() -> None:
    # One rack of 3 nodes x 4 GPUs, the last a spare. "a" (2 GPUs) runs on node 0. At 1 h
    # a free GPU of node 0 fails (8 - 2 - 1 = 5 free); at 2 h node 0 fails under "a", which
    # moves to the spare with all its GPUs working: node 1's 4 + the spare's 2 = 6 free.
    # So "b" (6 GPUs) starts when it arrives at 3 h; a swap that forgot the GPU in repair
    # would leave 5 free and "b" waiting for "a" to end (at 2 h + 6 min + the 6 h of work left).
    items = [{"name": "a", "gpus": 2, "group_size": 1, "duration_hours": 8},
             {"name": "b", "gpus": 6, "group_size": 1, "duration_hours": 1, "submit": "2026-01-01T03:00:00"}]
    injected = [{"date": "2026-01-01T01:00:00", "pool": "p", "rack": 0, "node": 0, "component": "gpu",
                 "repair_hours": 30},
                {"date": "2026-01-01T02:00:00", "pool": "p", "rack": 0, "node": 0, "repair_hours": 30}]
    jobs, result = run_named(3, 1, items, injected, "2026-01-02",
                             {"interval_hours": 1, "restart_overhead_minutes": 6}, spares=1)
    assert [f["spare_used"] for f in result.failures.to_pylist()] == [False, True]
    assert jobs["a"]["interruptions"] == 1
    assert jobs["b"]["start_s"] == 3 * H


def test_a_job_out_of_restarts_fails() -> None:
    checkpointing = {"interval_hours": 1, "restart_overhead_minutes": 0, "max_restarts": 1}
    # Racks of one 4-GPU node: the job holds racks 0 and 1, then (rack 0 in repair) 1 and 2.
    job, _ = run(1, [node_failure(2), node_failure(4, rack=1)], checkpointing, racks=4)
    assert job["status"] == "failed" and job["interruptions"] == 2 and job["end_s"] == 4 * H
    assert job["reason"] == "failed: more than 1 interruptions"


def test_checkpoint_advice_follows_young_daly() -> None:
    spec = scenario({"pools": [{"name": "p", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 2048}]}]},
                    [], failures={"processes": [{"name": "node", "component": "node",
                                                 "rate_per_unit_hour": 6.5e-3 / 24}]},
                    checkpointing={"interval_hours": 1, "write_minutes": 1, "restart_overhead_minutes": 10})
    rows = {row["gpus"]: row for row in checkpoint_advice(spec)}
    big = rows[16384]
    assert big["mtbi_h"] == pytest.approx(1 / (2048 * 6.5e-3 / 24))  # 1.80 h, Meta's projection
    assert big["young_daly_interval_h"] == pytest.approx(math.sqrt(2 * (1 / 60) * big["mtbi_h"]))
    # The exact renewal ETTR: rate x tau x e^(-rate R) / (e^(rate (tau + C)) - 1).
    rate, tau, write, restart = 1 / big["mtbi_h"], big["young_daly_interval_h"], 1 / 60, 10 / 60
    assert big["ettr_at_young_daly"] == pytest.approx(
        rate * tau * math.exp(-rate * restart) / math.expm1(rate * (tau + write)), rel=1e-12)
    assert big["ettr_at_young_daly"] == pytest.approx(0.7932, abs=5e-5)  # first order: 0.772
    # The best interval solves (1 - x) e^x = e^(-rate C) with x = rate tau, and beats Young/Daly.
    x = rate * big["optimal_interval_h"]
    assert (1 - x) * math.exp(x) == pytest.approx(math.exp(-rate * write), rel=1e-12)
    assert big["ettr_at_optimal"] >= big["ettr_at_young_daly"]
    assert rows[8]["ettr_at_young_daly"] > big["ettr_at_young_daly"] > big["ettr_at_configured"]


def test_gpus_repaired_while_their_rack_is_down_wait_for_the_rack() -> None:
    # Two racks of 2 nodes x 4 GPUs. "a" (8 GPUs in one rack) starts on rack 0; node 0 of
    # rack 0 fails at 1 h (repaired at 2 h) and "a" restarts on rack 1 for 20 h. The whole
    # of rack 0 goes down at 1.5 h (its switch; back at 11.5 h). The node's repair at 2 h
    # must not make its GPUs placeable on a rack that is still down, so "b" (4 GPUs,
    # submitted at 3 h) starts when the rack is back.
    items = [{"name": "a", "gpus": 8, "group_size": 8, "duration_hours": 20},
             {"name": "b", "gpus": 4, "group_size": 4, "duration_hours": 1, "submit": "2026-01-01T03:00:00"}]
    injected = [{"date": "2026-01-01T01:00:00", "pool": "p", "rack": 0, "node": 0, "component": "node",
                 "repair_hours": 1},
                {"date": "2026-01-01T01:30:00", "pool": "p", "rack": 0, "component": "rack", "repair_hours": 10}]
    jobs, result = run_named(2, 2, items, injected, "2026-01-03", {"interval_hours": 1})
    assert jobs["a"]["interruptions"] == 1 and jobs["a"]["start_s"] == 0
    assert jobs["b"]["start_s"] == pytest.approx(11.5 * H)
    in_repair = result.timeseries["gpus_in_repair"].to_pylist()
    # Hourly means: the rack's 8 GPUs count as in repair until it is back at 11.5 h.
    assert in_repair[2] == 8 and in_repair[10] == 8 and in_repair[11] == 4 and in_repair[12] == 0


def test_failures_refuse_a_fleet_state_without_holdings_per_node() -> None:
    """A failure must know which jobs hold GPUs on the node it strikes."""
    fleet = {"pools": [{"name": "p", "gpu": "H100", "gpus_per_node": 4, "nodes_per_rack": 2,
                        "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
    jobs = [{"jobs": {"name": "j", "items": [{"name": "job", "gpus": 4, "duration_hours": 5}]}}]
    spec = scenario(fleet, jobs, end="2026-01-02", failures={"injected": [node_failure(1.0)]})
    built = build(spec)
    assert built.state.track_nodes
    assert built.outages is not None and built.outages.injected
    with pytest.raises(ValueError, match="track"):
        Simulation(built.layout, built.jobs, FleetState(built.layout, track_nodes=False), built.scheduler,
                   built.until_s, injected_failures=built.outages.injected)
