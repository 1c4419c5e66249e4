"""Services inside a fleet run, against hand-worked cases: a replica preempts training and
gives the GPUs back at its end; quota sharing reclaims only as the queue's Kueue rules
allow; a failure under a replica loses it and the next decision replaces it; a replayed
trace reports the trace's own statistics."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.csv as pcsv
import pytest

from gpufleet import api
from gpufleet.testing import jobs_workload, scenario

HOUR = 3600.0


def rack_fleet(racks: int, nodes_per_rack: int = 16) -> dict:
    """GB200 racks of `nodes_per_rack` 4-GPU nodes (64 GPUs with 16), delivered at the start."""
    return {"pools": [{"name": "gb200", "gpu": "GB200", "gpus_per_node": 4, "nodes_per_rack": nodes_per_rack,
                       "deliveries": [{"date": "2026-01-01", "racks": racks}]}]}


def fixed_service(**extra: object) -> dict:
    """One 64-GPU replica, from 10:00 to 20:00 on 2026-01-01, 10 req/s of 100 tokens."""
    service = {"name": "svc", "flavors": ["GB200"], "replica": {"gpus": 64},
               "start": "2026-01-01T10:00:00", "end": "2026-01-01T20:00:00",
               "demand": {"requests_per_s": 10, "output_tokens_per_request": 100}}
    service.update(extra)
    return service


BIG = {"name": "big", "gpus": 256, "group_size": 64, "duration_hours": 48}
CHECKPOINTS = {"interval_hours": 3, "write_minutes": 0, "restart_overhead_minutes": 0}


def test_replica_preempts_training_and_gives_the_gpus_back() -> None:
    # 256 GPUs, one 256-GPU job from 00:00. At 10:00 the replica needs a rack: the job is
    # preempted (last checkpoint 09:00: 1 h x 256 GPUs lost), waits until the service
    # ends at 20:00, then runs its remaining 48 - 9 = 39 h: it ends at 2026-01-03 11:00.
    spec = scenario(rack_fleet(4), [jobs_workload([BIG])], end="2026-01-05", services=[fixed_service()],
                    checkpointing=CHECKPOINTS)
    result = api.run(spec)
    job = result.jobs.to_pylist()[0]
    assert job["status"] == "completed" and job["preemptions"] == 1
    assert job["end_s"] == (48 + 11) * HOUR
    assert job["lost_gpu_hours"] == pytest.approx(256.0)
    service = result.summary["serving"]["services"][0]
    assert service["training_jobs_preempted"] == 1 and service["placements"] == 1
    assert service["gpu_hours"] == pytest.approx(64 * 10)
    assert service["slo_attainment"] == pytest.approx(1.0) and service["requests_dropped"] == 0
    series = result.timeseries
    serving = series["serving_gpus"].to_numpy()
    hours = series["t_s"].to_numpy() / HOUR
    assert np.all(serving[(hours >= 10) & (hours < 20)] == 64) and np.all(serving[(hours < 10) | (hours >= 20)] == 0)
    assert np.all(series["allocated_gpus"].to_numpy() <= series["installed_gpus"].to_numpy())


def queues(reclaim: str) -> dict:
    return {"policy": "fifo", "backfill": True,
            "queues": [{"name": "training", "cohort": "all", "nominal": {"GB200": 192}, "tenants": ["*"]},
                       {"name": "inference", "cohort": "all", "nominal": {"GB200": 64}, "tenants": [],
                        "preemption": {"reclaim_within_cohort": reclaim}}]}


@pytest.mark.parametrize(("reclaim", "preempted"), [("Any", 1), ("Never", 0)])
def test_quota_sharing_reclaims_only_as_the_queue_allows(reclaim: str, preempted: int) -> None:
    # The training job borrows the inference queue's 64 GPUs. With reclaim_within_cohort
    # Any the replica takes its nominal quota back (preempting the borrower); with Never
    # it stays pending for the whole window and serves nothing.
    spec = scenario(rack_fleet(4), [jobs_workload([BIG])], end="2026-01-05", scheduler=queues(reclaim),
                    services=[fixed_service(sharing={"mode": "quota", "queue": "inference"})],
                    checkpointing=CHECKPOINTS)
    result = api.run(spec)
    service = result.summary["serving"]["services"][0]
    assert service["training_jobs_preempted"] == preempted
    assert result.jobs.to_pylist()[0]["preemptions"] == preempted
    if preempted:
        assert service["gpu_hours"] == pytest.approx(640.0) and service["share_of_intervals_short"] == 0.0
    else:
        assert service["gpu_hours"] == 0.0 and service["share_of_intervals_short"] == 1.0
        assert service["output_tokens_served"] == 0.0
        assert service["requests_dropped"] == pytest.approx(service["demand"]["requests"])


def test_failure_loses_a_replica_and_the_next_decision_replaces_it() -> None:
    # Two racks of 64 GPUs, one replica from 00:00 (warm). At 05:02 node 0 of both racks
    # fails (repaired 06:02): the replica is lost and no rack has 64 healthy GPUs until
    # 06:02. The 06:05 decision places a replacement, ready after 10 minutes of warm-up.
    service = fixed_service(start="2026-01-01T00:00:00", end="2026-01-01T12:00:00")
    injected = [{"date": "2026-01-01T05:02:00", "pool": "gb200", "rack": rack, "node": 0, "component": "node",
                 "repair_hours": 1, "cause": "test"} for rack in (0, 1)]
    spec = scenario(rack_fleet(2), [], end="2026-01-02", services=[service], failures={"injected": injected})
    result = api.run(spec)
    intervals = result.serving.intervals
    start = intervals["start_s"].to_numpy() / 60.0  # minutes
    ready = intervals["ready_replicas"].to_numpy()
    assert np.all(ready[start <= 300] == 1)  # up to the 05:00 interval
    assert np.all(ready[(start >= 305) & (start <= 370)] == 0)  # 05:05 .. 06:10
    assert np.all(ready[start >= 375] == 1)  # from 06:15
    summary = result.summary["serving"]["services"][0]
    assert summary["replicas_lost"] == {"test": 1} and summary["placements"] == 2
    assert int(np.sum(result.failures["replicas_hit"].to_numpy())) == 1
    # Held GPUs: 64 from 00:00 to 05:02 and from 06:05 to 12:00; the first replica served
    # at once (warm start), the replacement warmed up 06:05-06:15.
    assert summary["gpu_hours"] == pytest.approx(64 * ((5 + 2 / 60) + (12 - (6 + 5 / 60))))
    assert summary["warmup_gpu_hours"] == pytest.approx(64 * 10 / 60)


@pytest.mark.parametrize(("until", "warmup_minutes"), [(None, 10.0), ("2026-01-01T10:04:00", 4.0)])
def test_goodput_with_serving_leaves_out_warm_up(until: str | None, warmup_minutes: float) -> None:
    # A cold start: the replica placed at 10:00 warms up until 10:10, then serves until
    # 20:00. A run stopped at 10:04 has seen 4 minutes of its warm-up. No training runs,
    # so goodput with serving is the serving GPU-hours after warm-up over billed GPU-hours.
    spec = scenario(rack_fleet(1), [], end="2026-01-02", services=[fixed_service(warm_start=False)])
    result = api.run(spec, until=None if until is None else datetime.fromisoformat(until))
    service = result.summary["serving"]["services"][0]
    held_hours = 10.0 if until is None else 4 / 60
    assert service["gpu_hours"] == pytest.approx(64 * held_hours)
    assert service["warmup_gpu_hours"] == pytest.approx(64 * warmup_minutes / 60)
    assert result.summary["serving"]["serving_warmup_gpu_hours"] == pytest.approx(64 * warmup_minutes / 60)
    billed = result.summary["capacity"]["installed_gpu_hours"]
    assert result.summary["failures"]["goodput_with_serving"] == \
        pytest.approx(64 * (held_hours - warmup_minutes / 60) / billed)


def test_replayed_trace_reports_the_traces_own_statistics(shared: Path) -> None:
    path = shared / "traces" / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv"
    if not path.exists():
        pytest.skip("Azure LLM inference trace not in ../shared")
    trace = pcsv.read_csv(path)
    service = {"name": "conv", "flavors": ["GB200"], "replica": {"gpus": 8}, "autoscaler_interval_seconds": 60,
               "replica_policy": {"min_replicas": 1, "max_replicas": 4, "target_qps_per_replica": 50},
               "demand": {"trace": {"format": "azure-llm", "path": str(path), "repeat": 1}}}
    spec = scenario(rack_fleet(1), [], end="2026-01-01T03:00:00", services=[service])
    demand = api.run(spec).summary["serving"]["services"][0]["demand"]
    assert demand["requests"] == pytest.approx(trace.num_rows, rel=1e-9)
    assert demand["output_tokens_per_request"] == pytest.approx(np.mean(trace["GeneratedTokens"].to_numpy()),
                                                                rel=1e-9)
    assert demand["input_tokens_per_request"] == pytest.approx(np.mean(trace["ContextTokens"].to_numpy()), rel=1e-9)
