"""Edge cases of services inside a fleet run: spare swaps under replicas, victims for
replicas of several NVLink groups, windows at the horizon, the backfill plan after a
service gives GPUs back, quota rules, determinism. Each hand-worked; several pin bugs
found in review and fixed."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from gpufleet import api
from gpufleet.results.run_result import RunResult
from gpufleet.sim.build import build
from gpufleet.testing import jobs_workload, scenario

HOUR = 3600.0
CHECKPOINTS = {"interval_hours": 1, "write_minutes": 0, "restart_overhead_minutes": 0}


def rack_fleet(racks: int, nodes_per_rack: int = 16, date: str = "2026-01-01", gpu: str = "GB200",
               name: str = "gb200") -> dict:
    """One pool of `racks` racks of `nodes_per_rack` 4-GPU nodes (64 GPUs with 16)."""
    return {"pools": [{"name": name, "gpu": gpu, "gpus_per_node": 4, "nodes_per_rack": nodes_per_rack,
                       "deliveries": [{"date": date, "racks": racks}]}]}


def service(**extra: object) -> dict:
    """One 64-GPU replica from 10:00 to 20:00 on 2026-01-01, 10 req/s of 100 tokens."""
    spec = {"name": "svc", "flavors": ["GB200"], "replica": {"gpus": 64},
            "start": "2026-01-01T10:00:00", "end": "2026-01-01T20:00:00",
            "demand": {"requests_per_s": 10, "output_tokens_per_request": 100}}
    spec.update(extra)
    return spec


def job(name: str, gpus: int, hours: float, group: int | None = None, submit: str | None = None) -> dict:
    item = {"name": name, "gpus": gpus, "group_size": group or gpus, "duration_hours": hours}
    if submit is not None:
        item["submit"] = submit
    return item


def serving_summary(result: RunResult) -> dict:
    return result.summary["serving"]["services"][0]


# -- bugs ---------------------------------------------------------------------------


def test_a_spare_swap_leaves_no_replica_on_the_node_in_repair() -> None:
    # One rack of 3 nodes, the last a hot spare. The replica (2 GPUs) and a job (2 GPUs)
    # share node 0. A GPU failure under the job at 02:00 swaps node 0 out for the spare:
    # the job restarts on the spare and node 0 goes to repair, all 4 of its GPUs. The
    # replica must not go on holding GPUs of node 0 (lost, or moved to the spare).
    # (Fails at commit 2396627: outages._apply swapped only the jobs.)
    fleet = rack_fleet(1, nodes_per_rack=3, name="p")
    svc = service(replica={"gpus": 2, "warmup_minutes": 0}, start="2026-01-01T00:00:00",
                  end="2026-01-01T12:00:00", demand={"requests_per_s": 1, "output_tokens_per_request": 100})
    injected = [{"date": "2026-01-01T02:00:00", "pool": "p", "rack": 0, "node": 0, "component": "gpu",
                 "repair_hours": 10}]
    spec = scenario(fleet, [jobs_workload([job("j", 2, 48)])], end="2026-01-02", services=[svc],
                    failures={"injected": injected, "spares": {"nodes_per_rack": 1}})
    simulation = build(spec, until=datetime(2026, 1, 1, 4))
    record = simulation.run()
    assert record.failures[0].spare_used  # the swap happened
    state = simulation.state
    for allocation in simulation.serving.services[0].allocations.values():  # type: ignore[union-attr]
        assert not np.any(state.node_spare[allocation.nodes]), "replica held on a swapped-out node"
        assert not np.any(state.node_failed[allocation.nodes]), "replica held on GPUs in repair"
    # The job moved to the spare.
    for job_allocation in simulation.scheduler.allocations.values():
        assert not np.any(state.node_spare[job_allocation.nodes])


def test_a_replica_of_small_groups_may_preempt_on_a_single_rack() -> None:
    # One 64-GPU rack, full with one job. A 64-GPU replica in groups of 16 fits the rack
    # once the job is preempted, exactly as a replica in one group of 64 does
    # (test_in_fleet). gang_victims frees one group per rack, needs 4 racks, finds 1:
    # the replica never runs.
    spec = scenario(rack_fleet(1), [jobs_workload([job("big", 64, 48)])], end="2026-01-05",
                    services=[service(replica={"gpus": 64, "group_size": 16})], checkpointing=CHECKPOINTS)
    summary = serving_summary(api.run(spec))
    assert summary["placements"] == 1 and summary["training_jobs_preempted"] == 1
    assert summary["gpu_hours"] == pytest.approx(640.0)


def test_a_replica_of_small_groups_preempts_one_job_not_one_per_group() -> None:
    # Four full racks of one 64-GPU job each. One job's rack holds the whole 64-GPU replica
    # (4 groups of 16), but one rack option per group stops all four jobs.
    jobs = [job(f"j{i}", 64, 48) for i in range(4)]
    spec = scenario(rack_fleet(4), [jobs_workload(jobs)], end="2026-01-05",
                    services=[service(replica={"gpus": 64, "group_size": 16})], checkpointing=CHECKPOINTS)
    result = api.run(spec)
    assert serving_summary(result)["training_jobs_preempted"] == 1
    assert sum(row["preemptions"] for row in result.jobs.to_pylist()) == 1


def test_a_rack_option_spares_the_victims_it_does_not_need() -> None:
    # One 64-GPU rack: a 4-GPU job, a 52-GPU job, 8 GPUs free. A 60-GPU replica needs 52
    # more: the 52-GPU job alone frees them. The greedy option takes the small job first
    # (cheapest), then the big one, and keeps both.
    jobs = [job("small", 4, 48, group=4), job("big", 52, 48, group=4)]
    spec = scenario(rack_fleet(1), [jobs_workload(jobs)], end="2026-01-05",
                    services=[service(replica={"gpus": 60})], checkpointing=CHECKPOINTS)
    result = api.run(spec)
    assert {row["name"]: row["preemptions"] for row in result.jobs.to_pylist()} == {"small": 0, "big": 1}


def test_a_service_starting_at_the_end_of_the_run_is_empty_not_an_error() -> None:
    # The scenario accepts a service starting at its end (end defaults to the scenario's):
    # the window is empty. ServingFleet builds edges = [start] and asks the demand for
    # the intervals of a single edge, which raises.
    fleet = rack_fleet(1)
    spec = scenario(fleet, [], end="2026-01-02", services=[service(start="2026-01-02T00:00:00", end=None)])
    result = api.run(spec)
    assert result.serving is None or result.serving.intervals.num_rows == 0


def test_a_run_cut_before_a_service_starts_is_not_an_error() -> None:
    # `until` before the service's start (gpufleet run --until): same empty window.
    spec = scenario(rack_fleet(1), [], end="2026-01-02", services=[service()])
    result = api.run(spec, until=datetime(2026, 1, 1, 6))
    assert result.serving is None or result.serving.intervals.num_rows == 0


def test_gpus_a_service_gives_back_renew_the_backfill_plan() -> None:
    # Two racks. The service holds rack 0 from 00:00 to 10:00; job a holds rack 1 until
    # 05:00. At 01:00 come h (128 GPUs, 5 h), then l and m (64 GPUs, 48 h each). The plan
    # made for h at 01:00 counts the replica as held for ever: no start foreseeable, no
    # reservation. l takes rack 1 at 05:00. When the service ends at 10:00, a plan made
    # then reserves both racks for h at 53:00 (when l ends), so m, which would run past
    # 53:00, must wait. With the stale plan m backfills rack 0 at 10:00 and h waits
    # until 58:00. Without the service h would start at 05:00.
    jobs = [job("a", 64, 5), job("h", 128, 5, group=64, submit="2026-01-01T01:00:00"),
            job("l", 64, 48, submit="2026-01-01T01:00:00"), job("m", 64, 48, submit="2026-01-01T01:00:00")]
    spec = scenario(rack_fleet(2), [jobs_workload(jobs)], end="2026-01-06", checkpointing=CHECKPOINTS,
                    services=[service(start="2026-01-01T00:00:00", end="2026-01-01T10:00:00")])
    starts = {row["name"]: row["start_s"] / HOUR for row in api.run(spec).jobs.to_pylist()}
    assert starts["l"] == 5.0
    assert starts["h"] == 53.0 and starts["m"] == 58.0


QUOTA_RULES = {
    # One queue, quota used by its own training job: Kueue's within_cluster_queue lets a
    # higher-priority workload preempt it to get the quota.
    "within_cluster_queue": ({"policy": "fifo", "backfill": True,
                              "queues": [{"name": "inference", "nominal": {"GB200": 64}, "tenants": ["*"],
                                          "preemption": {"within_cluster_queue": "LowerPriority"}}]},
                             [job("t", 64, 48)]),
    # The replica must borrow (nominal 0) and the cohort's quota is all in use:
    # borrow_within_cohort LowerPriority lets it preempt lower-priority cohort members.
    "borrow_within_cohort": ({"policy": "fifo", "backfill": True,
                              "queues": [{"name": "training", "cohort": "all", "nominal": {"GB200": 128},
                                          "tenants": ["*"]},
                                         {"name": "inference", "cohort": "all", "nominal": {"GB200": 0},
                                          "tenants": [], "preemption": {"borrow_within_cohort": "LowerPriority"}}]},
                             [job("t", 128, 48, group=64)]),
}


@pytest.mark.parametrize("rule", sorted(QUOTA_RULES))
def test_quota_rules_other_than_reclaim_can_free_quota_for_a_replica(rule: str) -> None:
    # _place_one skips a pool whose quota does not fit unless the replica is within
    # nominal and reclaim_within_cohort allows (_may_reclaim); the other rules the docs
    # list then never apply when quota (not room) is short, and the replica stays pending.
    scheduler, jobs = QUOTA_RULES[rule]
    spec = scenario(rack_fleet(2), [jobs_workload(jobs)], end="2026-01-05", scheduler=scheduler,
                    services=[service(sharing={"mode": "quota", "queue": "inference"})], checkpointing=CHECKPOINTS)
    summary = serving_summary(api.run(spec))
    assert summary["placements"] == 1 and summary["training_jobs_preempted"] == 1


# -- behaviour pinned ---------------------------------------------------------------


def test_a_node_failure_under_a_replica_and_a_job_loses_the_replica_and_swaps_the_job() -> None:
    # The spare-swap path that works: a node failure takes the whole node. The replica on
    # it is lost (no swap for replicas), the job restarts on the spare, and nothing is
    # left on the node in repair.
    fleet = rack_fleet(1, nodes_per_rack=3, name="p")
    svc = service(replica={"gpus": 2, "warmup_minutes": 0}, start="2026-01-01T00:00:00",
                  end="2026-01-01T12:00:00", demand={"requests_per_s": 1, "output_tokens_per_request": 100})
    injected = [{"date": "2026-01-01T02:00:00", "pool": "p", "rack": 0, "node": 0, "component": "node",
                 "repair_hours": 10, "cause": "test"}]
    spec = scenario(fleet, [jobs_workload([job("j", 2, 48)])], end="2026-01-02", services=[svc],
                    failures={"injected": injected, "spares": {"nodes_per_rack": 1}})
    simulation = build(spec, until=datetime(2026, 1, 1, 4))
    record = simulation.run()
    failure = record.failures[0]
    assert failure.spare_used and failure.replicas_hit == 1 and failure.jobs_hit == 1
    state = simulation.state
    fleet_service = simulation.serving.services[0]  # type: ignore[union-attr]
    assert fleet_service.lost == {"test": 1} and fleet_service.placements == 2  # replaced at 02:05
    held = [*fleet_service.allocations.values(), *simulation.scheduler.allocations.values()]
    for allocation in held:
        assert not np.any(state.node_failed[allocation.nodes]) and not np.any(state.node_spare[allocation.nodes])
    # Free GPUs per node agree with the rack's free count (nothing leaked at node level).
    placeable = ~state.node_spare[:3]
    assert int(state.node_free[:3][placeable].sum()) == int(state.avail[0])


def test_quota_usage_follows_the_replicas_and_the_borrowing_limit_caps_them() -> None:
    # Queue inference: nominal 64, borrowing_limit 0. Demand asks for 2 replicas; the
    # fleet has room for both, the quota for one: one is placed, one stays pending. At
    # the service's end its quota is back (usage 0).
    scheduler = {"policy": "fifo", "backfill": True,
                 "queues": [{"name": "training", "cohort": "all", "nominal": {"GB200": 192}, "tenants": ["*"]},
                            {"name": "inference", "cohort": "all", "nominal": {"GB200": 64},
                             "borrowing_limit": {"GB200": 0}, "tenants": []}]}
    svc = service(sharing={"mode": "quota", "queue": "inference"},
                  replica_policy={"min_replicas": 2, "max_replicas": 2, "target_qps_per_replica": 1})
    spec = scenario(rack_fleet(4), [], end="2026-01-02", scheduler=scheduler, services=[svc])
    simulation = build(spec, until=datetime(2026, 1, 1, 15))
    simulation.run()
    quotas = simulation.scheduler.quotas
    inference = quotas.names.index("inference")
    assert quotas.usage[inference][0] == 64
    fleet_service = simulation.serving.services[0]  # type: ignore[union-attr]
    assert fleet_service.placements == 1 and fleet_service.pending[-1] == 1
    result = api.run(spec)
    summary = serving_summary(result)
    assert summary["placements"] == 1 and summary["gpu_hours"] == pytest.approx(640.0)
    assert summary["share_of_intervals_short"] == 1.0
    simulation = build(spec)
    simulation.run()
    assert simulation.scheduler.quotas.usage[inference][0] == 0  # given back at 20:00


def test_a_service_cut_by_the_horizon_holds_its_gpus_to_the_horizon() -> None:
    # until 15:00 cuts the 10:00-20:00 window: 5 h x 64 GPUs, decisions up to 14:55.
    spec = scenario(rack_fleet(1), [], end="2026-01-02", services=[service()])
    result = api.run(spec, until=datetime(2026, 1, 1, 15))
    assert serving_summary(result)["gpu_hours"] == pytest.approx(5 * 64)
    starts = result.serving.intervals["start_s"].to_numpy() / HOUR  # type: ignore[union-attr]
    assert starts[0] == 10.0 and starts[-1] == pytest.approx(15 - 5 / 60)
    serving = result.timeseries["serving_gpus"].to_numpy()
    assert np.all(serving[10:15] == 64) and np.all(serving[:10] == 0)


def test_a_warm_service_before_the_first_delivery_warms_up_when_racks_arrive() -> None:
    # Warm start at 00:00 on an empty fleet; the rack arrives at 03:00. The replica is
    # placed then and serves after its 10-minute warm-up (not at once: the service was
    # not running on it).
    spec = scenario(rack_fleet(1, date="2026-01-01T03:00:00"), [], end="2026-01-02",
                    services=[service(start="2026-01-01T00:00:00")])
    result = api.run(spec)
    table = result.serving.intervals  # type: ignore[union-attr]
    start = table["start_s"].to_numpy() / 60.0
    ready = table["ready_replicas"].to_numpy()
    assert np.all(ready[start < 190] == 0) and np.all(ready[start >= 190] == 1)
    assert serving_summary(result)["gpu_hours"] == pytest.approx(64 * 17)


def test_scale_from_zero_places_at_the_first_decision_that_sees_demand() -> None:
    # min_replicas 0, cold start: 0 replicas at 10:00; the 10:05 decision sees 10 req/s
    # and goes from 0 at once (no upscale delay) to ceil(10 / 8) = 2; both warm up 10 min.
    svc = service(warm_start=False, replica_policy={"min_replicas": 0, "max_replicas": 4,
                                                    "target_qps_per_replica": 8})
    result = api.run(scenario(rack_fleet(2), [], end="2026-01-02", services=[svc]))
    table = result.serving.intervals  # type: ignore[union-attr]
    target, ready = table["target_replicas"].to_numpy(), table["ready_replicas"].to_numpy()
    assert target[0] == 0 and np.all(target[1:] == 2)
    assert ready[0] == 0 and ready[1] == 0 and ready[2] == 0 and np.all(ready[3:] == 2)


def test_a_second_flavor_with_free_room_comes_before_preempting_the_first() -> None:
    # GB200 is full with a job; GB300 is free. The replica (flavors GB200, GB300) goes on
    # GB300 without preempting (docs: the first flavor with room, then preemption).
    fleet = {"pools": [
        {"name": "a", "gpu": "GB200", "gpus_per_node": 4, "nodes_per_rack": 16,
         "deliveries": [{"date": "2026-01-01", "racks": 1}]},
        {"name": "b", "gpu": "GB300", "gpus_per_node": 4, "nodes_per_rack": 16,
         "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
    jobs = [{"name": "big", "gpus": 64, "group_size": 64, "duration_hours": 48, "flavors": ["GB200"]}]
    spec = scenario(fleet, [jobs_workload(jobs)], end="2026-01-05",
                    services=[service(flavors=["GB200", "GB300"])], checkpointing=CHECKPOINTS)
    result = api.run(spec)
    summary = serving_summary(result)
    assert summary["training_jobs_preempted"] == 0 and summary["placements"] == 1
    assert result.jobs.to_pylist()[0]["preemptions"] == 0


def test_same_seed_same_run_with_failures_and_quota() -> None:
    scheduler = {"policy": "fifo", "backfill": True,
                 "queues": [{"name": "training", "cohort": "all", "nominal": {"GB200": 128}, "tenants": ["*"]},
                            {"name": "inference", "cohort": "all", "nominal": {"GB200": 128}, "tenants": [],
                             "preemption": {"reclaim_within_cohort": "Any"}}]}
    jobs = [job(f"j{i}", 16 * (1 + i % 3), 2 + i % 5, group=16, submit=f"2026-01-01T{i:02d}:00:00")
            for i in range(12)]
    svc = service(replica={"gpus": 16}, start="2026-01-01T00:00:00", end="2026-01-01T23:00:00",
                  sharing={"mode": "quota", "queue": "inference"},
                  replica_policy={"min_replicas": 1, "max_replicas": 6, "target_qps_per_replica": 4},
                  demand={"requests_per_s": 12, "output_tokens_per_request": 100,
                          "hour_of_day": [0.2] * 6 + [2.0] * 12 + [0.2] * 6})
    failures = {"processes": [{"name": "n", "component": "node", "mttf_hours": 30.0,
                               "repair": {"dist": "fixed", "hours": 1.0}}]}
    spec = scenario(rack_fleet(4), [jobs_workload(jobs)], end="2026-01-02", seed=3, scheduler=scheduler,
                    services=[svc], failures=failures, checkpointing=CHECKPOINTS)
    first, second = api.run(spec), api.run(spec)
    assert serving_summary(first)["training_jobs_preempted"] > 0 and serving_summary(first)["replicas_lost"]
    for a, b in [(first.jobs, second.jobs), (first.serving.intervals, second.serving.intervals),  # type: ignore[union-attr]
                 (first.failures, second.failures), (first.timeseries, second.timeseries)]:
        assert repr(a.to_pylist()) == repr(b.to_pylist())  # NaN-safe, unlike pa.Table.equals
    assert first.summary == second.summary
