"""The autoscaler and replica lifecycle on hand-worked schedules.

SkyPilot semantics (sky/serve/autoscalers.py): desired = ceil(qps / target) clamped to
[min, max]; the target moves up after `upscale_delay / interval` consecutive decisions
above it, down after `downscale_delay / interval` below; agreement resets both counters.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from gpufleet.serving.autoscaler import Autoscaler, ReplicaSet
from gpufleet.serving.run import run_service
from gpufleet.spec.serving import ReplicaPolicySpec, ServiceSpec

ORIGIN = datetime(2026, 1, 1)


def step_service(**changes: object) -> ServiceSpec:
    """One-GPU H100 replicas of 1,000 tokens/s; 25 tokens/s per request -> 40 slots; 100 tokens per
    request -> 10 requests/s per replica. Demand 5 req/s, 35 from 01:00, 5 again from 02:00."""
    spec = {
        "name": "step", "flavors": ["H100"],
        "replica": {"gpus": 1, "warmup_minutes": 10, "tokens_per_s_per_gpu": {"H100": 1000}},
        "replica_policy": {"min_replicas": 1, "max_replicas": 10, "target_qps_per_replica": 10,
                           "upscale_delay_seconds": 300, "downscale_delay_seconds": 1200},
        "autoscaler_interval_seconds": 300,
        "slo": {"wait_seconds": 1.0, "output_tokens_per_s_per_request": 25},
        "demand": {"requests_per_s": 5, "output_tokens_per_request": 100,
                   "launches": [{"date": "2026-01-01T01:00:00", "factor": 7},
                                {"date": "2026-01-01T02:00:00", "factor": 1 / 7}]},
    }
    spec.update(changes)
    return ServiceSpec.model_validate(spec)


def test_demand_step_hand_worked_schedule() -> None:
    """Intervals k = 0..35 of 5 minutes; decision k sees the demand of interval k - 1.

    - k = 13 (01:05) sees 35 req/s: desired 4 > 1, one period of upscale delay -> target 4,
      three replicas placed at 01:05, ready after 10 minutes warm-up: from k = 15 (01:15).
    - k = 25..28 see 5 req/s: desired 1 < 4 for four decisions (1,200 s / 300 s);
      at k = 28 (02:20) the target drops to 1 and three replicas stop.
    """
    run = run_service(step_service(), ORIGIN, datetime(2026, 1, 1, 3))
    assert list(run.target_replicas) == [1] * 13 + [4] * 15 + [1] * 8
    assert list(run.placed_replicas) == [1] * 13 + [4] * 15 + [1] * 8
    assert list(run.ready_replicas) == [1] * 15 + [4] * 13 + [1] * 8
    assert list(run.metrics.slots) == [40] * 15 + [160] * 13 + [40] * 8
    # Demand of 35 req/s against 10 req/s of capacity until the new replicas are ready.
    overloaded = run.metrics.offered_load >= run.metrics.slots
    assert list(np.flatnonzero(overloaded)) == [12, 13, 14]
    assert run.metrics.dropped_requests[12:15].sum() > 0
    assert run.metrics.within_target[16:] == pytest.approx(1.0, abs=1e-3)
    assert list(run.held_gpus) == list(run.placed_replicas)


def test_unplaceable_replicas_stay_pending() -> None:
    """The fleet holds two replicas: the target is the same, the extra two wait, capacity is two replicas."""
    run = run_service(step_service(), ORIGIN, datetime(2026, 1, 1, 3), max_placed=2)
    assert list(run.target_replicas) == [1] * 13 + [4] * 15 + [1] * 8
    assert list(run.placed_replicas) == [1] * 13 + [2] * 15 + [1] * 8
    assert list(run.pending_replicas) == [0] * 13 + [2] * 15 + [0] * 8
    assert list(run.ready_replicas) == [1] * 15 + [2] * 13 + [1] * 8


def test_cold_start_waits_for_warm_up() -> None:
    """Without a warm start the service launches min_replicas at 00:00, ready at 00:10."""
    run = run_service(step_service(warm_start=False), ORIGIN, datetime(2026, 1, 1, 1))
    assert list(run.ready_replicas) == [0, 0] + [1] * 10
    assert run.metrics.served_requests[:2].sum() == 0.0
    assert run.metrics.dropped_requests[0] == pytest.approx(5 * 300)


def test_decisions_hand_worked() -> None:
    """Two periods to scale up, three to scale down; blips reset the counters."""
    scaler = Autoscaler(min_replicas=1, max_replicas=10, target_qps_per_replica=10, upscale_periods=2,
                        downscale_periods=3)
    qps = [5, 35, 5, 35, 35, 61, 5, 5, 35, 5, 5, 5, 0, 1000]
    expected = [1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 1, 1, 1]
    assert [scaler.decide(value) for value in qps] == expected
    assert scaler.decide(1000) == 10  # second decision above: up to max_replicas


def test_from_zero_scales_at_once() -> None:
    scaler = Autoscaler(min_replicas=0, max_replicas=5, target_qps_per_replica=2.5, upscale_periods=4,
                        downscale_periods=4)
    assert scaler.target == 0
    assert scaler.decide(0.0) == 0
    assert scaler.decide(6.0) == 3


def test_periods_follow_skypilot() -> None:
    policy = ReplicaPolicySpec(min_replicas=1, max_replicas=4, target_qps_per_replica=1.0,
                               upscale_delay_seconds=400, downscale_delay_seconds=0)
    scaler = Autoscaler.from_spec(policy, 300.0)
    assert (scaler.upscale_periods, scaler.downscale_periods) == (1, 0)
    assert scaler.desired(2.0) == 2 and scaler.desired(2.0000001) == 3 and scaler.desired(100) == 4
    fixed = Autoscaler.from_spec(ReplicaPolicySpec(min_replicas=3), 300.0)
    assert [fixed.decide(q) for q in (0.0, 1e6)] == [3, 3]


def test_replica_set_lifecycle() -> None:
    replicas = ReplicaSet(warmup_s=600.0)
    plan = replicas.reconcile(4, now=0.0)
    assert plan.launch == [0, 1, 2, 3] and len(replicas.pending) == 4
    replicas.place(0.0, "GB200")
    replicas.place(100.0, "GB200")
    replicas.place(200.0, "GB300")
    assert replicas.promote(650.0) == 1  # only the first has warmed up
    assert replicas.promote(800.0) == 3
    assert replicas.ready_by_flavor() == {"GB200": 2, "GB300": 1}
    # Scale down to 1: the pending one goes first, then the newest ready ones.
    stop = replicas.reconcile(1, now=900.0).stop
    assert [r.id for r in stop] == [3, 2, 1]
    assert [r.id for r in replicas.ready] == [0]
    # A lost replica is replaced by the next reconcile.
    replicas.lose(0)
    assert replicas.reconcile(1, now=1000.0).launch == [4]
    with pytest.raises(ValueError):
        replicas.place(150.0)  # before the previous placement at 200 s
