"""Gavel's max-min fairness: the LP (HiGHS) against hand-solved cases, its repeatability,
and hand-worked schedules of the round-based mechanism, aware and agnostic."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from gpufleet import api
from gpufleet.sched.maxmin import max_min_allocation
from gpufleet.testing import scenario

H = 3600.0


def test_lp_gives_the_fast_type_to_the_job_it_speeds_up() -> None:
    # Job 0 runs three times as fast on type 0; job 1 the same on both. One GPU of each.
    speed = np.array([[3.0, 1.0], [1.0, 1.0]])
    capacity = np.array([1.0, 1.0])
    equal_share = (speed * capacity).sum(axis=1) / capacity.sum()
    x = max_min_allocation(speed / equal_share[:, None], np.ones(2), capacity, np.ones((2, 2), dtype=bool))
    assert x.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_lp_max_min_share_and_constraints() -> None:
    # Three one-GPU jobs and two GPUs of one type: each gets 2/3 of the time (max-min).
    x = max_min_allocation(np.ones((3, 1)), np.ones(3), np.array([2.0]), np.ones((3, 1), dtype=bool))
    assert x[:, 0] == pytest.approx([2 / 3] * 3, abs=1e-8)
    # A job that may not use a type gets none of it; a 4-GPU job counts four times.
    allowed = np.array([[True, False], [True, True]])
    x = max_min_allocation(np.array([[4.0, 0.0], [1.0, 1.0]]), np.array([4.0, 1.0]), np.array([4.0, 1.0]), allowed)
    assert x[0, 1] == 0.0
    assert (x.sum(axis=1) <= 1 + 1e-9).all()
    assert ((x * np.array([[4.0], [1.0]])).sum(axis=0) <= np.array([4.0, 1.0]) + 1e-9).all()


def _problem(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    m, n = 40, 3
    speed = rng.uniform(0.1, 1.0, size=(m, n))
    scale = rng.choice([1.0, 2.0, 4.0, 8.0], size=m)
    return speed * scale[:, None], scale, np.array([16.0, 24.0, 32.0]), rng.uniform(size=(m, n)) > 0.1


def test_lp_is_repeatable_bit_for_bit() -> None:
    problem = _problem(7)
    first = max_min_allocation(*problem)
    for _ in range(3):
        assert max_min_allocation(*problem).tobytes() == first.tobytes()
    # ... and in a fresh process (another HiGHS instance, same answer to the last bit).
    code = ("import hashlib; from tests.unit.test_gavel import _problem; "
            "from gpufleet.sched.maxmin import max_min_allocation; "
            "print(hashlib.sha256(max_min_allocation(*_problem(7)).tobytes()).hexdigest())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == hashlib.sha256(first.tobytes()).hexdigest()


FLEET = {"pools": [
    {"name": "fast", "gpu": "GB300", "gpus_per_node": 8, "nodes_per_rack": 1,
     "deliveries": [{"date": "2026-01-01", "racks": 1}]},
    {"name": "slow", "gpu": "GB200", "gpus_per_node": 8, "nodes_per_rack": 1,
     "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
THROUGHPUT = {"reference": "GB300", "classes": [
    {"name": "a", "workloads": ["a"], "relative": {"GB200": 1 / 3}, "source": "assumption: test"},
    {"name": "b", "workloads": ["b"], "relative": {"GB200": 1.0}, "source": "assumption: test"}]}


def run(policy: str, submit_b: str = "2026-01-01T00:00:00") -> dict:
    workloads = [{"jobs": {"name": "a", "items": [{"name": "a", "gpus": 8, "duration_hours": 2,
                                                   "submit": "2026-01-01T00:00:00"}]}},
                 {"jobs": {"name": "b", "items": [{"name": "b", "gpus": 8, "duration_hours": 2, "submit": submit_b}]}}]
    spec = scenario(FLEET, workloads, end="2026-01-03", scheduler={"policy": policy, "preemption_cost": "none"},
                    throughput=THROUGHPUT)
    return {row["name"]: row for row in api.run(spec).jobs.to_pylist()}


def test_aware_rounds_keep_each_job_on_the_type_that_suits_it() -> None:
    rows = run("gavel_las")
    # a runs three times as fast on GB300 as on GB200, b the same on both: a gets GB300, b
    # GB200, and each keeps its type round after round (lease extension): both end at 2 h.
    assert rows["a"]["end_s"] == rows["b"]["end_s"] == 2 * H
    assert rows["a"]["preemptions"] == rows["b"]["preemptions"] == 0
    assert rows["a"]["pool"] == "fast" and rows["b"]["pool"] == "slow"


def test_agnostic_rounds_share_every_type_alike() -> None:
    rows = run("gavel_las_agnostic")
    # Each job's time is split between the types in proportion to their GPUs (half each):
    # the rounds alternate them. b (same speed on both) still ends at 2 h; a does 6 min of
    # work on GB300 and 2 min on GB200 every 12 minutes: its 2 h of work take 3 h.
    assert rows["b"]["end_s"] == 2 * H
    assert rows["a"]["end_s"] == 3 * H
    assert rows["a"]["preemptions"] > 10


def test_nothing_starts_between_rounds() -> None:
    rows = run("gavel_las", submit_b="2026-01-01T00:01:40")  # 100 s after the round at 0
    assert rows["b"]["start_s"] == 360.0 and rows["b"]["submit_s"] == 100.0


def run_with_quota(policy: str, queues: list[dict], teams: dict[str, str]) -> dict:
    """Jobs of class a (three times as fast on GB300 as on GB200), 8 GPUs and 2 h of GB300 work each."""
    items = [{"name": name, "team": team, "gpus": 8, "duration_hours": 2, "submit": "2026-01-01T00:00:00"}
             for name, team in teams.items()]
    spec = scenario(FLEET, [{"jobs": {"name": "a", "items": items}}], end="2026-01-03",
                    scheduler={"policy": policy, "preemption_cost": "none", "queues": queues},
                    throughput={"reference": "GB300", "classes": THROUGHPUT["classes"][:1]})
    return {row["name"]: row for row in api.run(spec).jobs.to_pylist()}


@pytest.mark.parametrize("policy", ["gavel_las", "gavel_las_agnostic"])
def test_round_plan_gives_a_job_only_the_type_its_queue_admits(policy: str) -> None:
    # The queue has quota for GB200 only. The aware LP would give a its fast GB300, which
    # the queue may not admit (it used to wait there for ever); quota-aware, the plan gives
    # it GB200 at the round at 0, where its 2 h of GB300 work take 2 h x 3 = 6 h, uninterrupted.
    # z's queue has no quota at all: it waits, left out of the plan.
    queues = [{"name": "lab", "tenants": ["alice"], "nominal": {"GB200": 8}},
              {"name": "closed", "tenants": ["carol"], "nominal": {"GB200": 0}}]
    rows = run_with_quota(policy, queues, {"a": "alice", "z": "carol"})
    assert rows["a"]["status"] == "completed" and rows["z"]["status"] == "queued"
    assert (rows["a"]["start_s"], rows["a"]["end_s"]) == (0.0, 6 * H)
    assert rows["a"]["pool"] == "slow" and rows["a"]["preemptions"] == 0
    assert rows["z"]["reason"].startswith("quota"), rows["z"]["reason"]  # the quota, not the round


def test_round_plan_keeps_each_queue_within_its_quota() -> None:
    # Two queues, the same class of job in each. research may use both types, product only
    # GB200: research's job gets GB300 (2 h), product's GB200 (6 h), both from the round at 0.
    queues = [{"name": "research", "tenants": ["alice"], "nominal": {"GB300": 8, "GB200": 8}},
              {"name": "product", "tenants": ["bob"], "nominal": {"GB200": 8}}]
    rows = run_with_quota("gavel_las", queues, {"r": "alice", "p": "bob"})
    assert (rows["r"]["pool"], rows["r"]["start_s"], rows["r"]["end_s"]) == ("fast", 0.0, 2 * H)
    assert (rows["p"]["pool"], rows["p"]["start_s"], rows["p"]["end_s"]) == ("slow", 0.0, 6 * H)
    assert rows["r"]["preemptions"] == rows["p"]["preemptions"] == 0


def test_lp_caps_a_group_of_jobs_on_a_type() -> None:
    # Two one-GPU jobs, two GPUs of type 0 and none limit: each gets type 0 whole. Capping
    # the pair (one queue) at one GPU of type 0 leaves each half of the time (max-min).
    both = np.array([True, True])
    free = max_min_allocation(np.ones((2, 1)), np.ones(2), np.array([2.0]), np.ones((2, 1), dtype=bool))
    assert free[:, 0].tolist() == [1.0, 1.0]
    capped = max_min_allocation(np.ones((2, 1)), np.ones(2), np.array([2.0]), np.ones((2, 1), dtype=bool),
                                [(both, 0, 1.0)])
    assert capped[:, 0] == pytest.approx([0.5, 0.5], abs=1e-8)
