"""Placement across providers: a gang stays in one provider (and region); jobs and queues
may restrict providers and prefer them in order (Kueue's TryNextFlavor)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.testing import jobs_workload, scenario


def _pool(name: str, provider: str, racks: int, region: str = "r1") -> dict:
    return {"name": name, "gpu": "H100", "provider": provider, "region": region, "gpus_per_node": 8,
            "nodes_per_rack": 1, "deliveries": [{"date": "2026-01-01", "racks": racks}]}


FLEET = {"pools": [_pool("aws-1", "aws", 4), _pool("azure-1", "azure", 2), _pool("oracle-1", "oracle", 8)]}


def _pool_of(result: api.RunResult) -> dict[str, str]:
    return {row["name"]: row["pool"] for row in result.jobs.to_pylist()}


def test_a_job_goes_to_its_preferred_provider_then_the_next() -> None:
    # Best fit alone would pick the tightest pool (azure, 2 racks) for the first 16-GPU job.
    jobs = [{"name": f"j{i}", "gpus": 16, "duration_hours": 10, "providers": ["oracle", "aws"]} for i in range(6)]
    result = api.run(scenario(FLEET, [jobs_workload(jobs)], end="2026-01-02"))
    pools = _pool_of(result)
    # Oracle's 8 racks take four 2-rack gangs; the next two go to AWS; none to Azure.
    assert [pools[f"j{i}"] for i in range(6)] == ["oracle-1"] * 4 + ["aws-1"] * 2


def test_a_queue_restricts_its_jobs_and_a_job_may_override_it() -> None:
    queues = {"policy": "fifo", "backfill": True,
              "queues": [{"name": "q", "tenants": ["*"], "providers": ["azure"], "nominal": {"H100": 112}}]}
    jobs = [{"name": "a", "gpus": 16, "duration_hours": 10}, {"name": "b", "gpus": 16, "duration_hours": 10},
            {"name": "c", "gpus": 8, "duration_hours": 10, "providers": ["aws"]}]
    result = api.run(scenario(FLEET, [jobs_workload(jobs)], end="2026-01-02", scheduler=queues))
    pools = _pool_of(result)
    assert pools["a"] == "azure-1" and pools["c"] == "aws-1"
    started = {row["name"]: row["start_s"] for row in result.jobs.to_pylist()}
    assert started["b"] == pytest.approx(10 * 3600)  # waited for Azure though others were free


def test_unknown_providers_are_named() -> None:
    with pytest.raises(InputError, match=r"workloads\[0\]\.jobs\.items\[0\]\.providers\[0\]: no pool is with provider"):
        scenario(FLEET, [jobs_workload([{"name": "a", "gpus": 8, "duration_hours": 1, "providers": ["ibm"]}])])
    with pytest.raises(InputError, match=r"scheduler\.queues\[0\]\.providers\[1\]"):
        scenario(FLEET, [], scheduler={"policy": "fifo", "queues": [{"name": "q", "tenants": ["*"],
                                                                      "providers": ["aws", "gcp"]}]})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.sampled_from([8, 16, 24, 32, 40, 48]), min_size=3, max_size=12),
       prefer=st.permutations(["aws", "azure", "oracle"]))
def test_no_gang_spans_providers_or_regions(sizes: list[int], prefer: list[str]) -> None:
    # AWS has 72 GPUs in two regions, but no gang larger than its 48 in one region.
    fleet = {"pools": [_pool("aws-1", "aws", 6), _pool("aws-2", "aws", 3, region="r2"), _pool("azure-1", "azure", 6),
                       _pool("oracle-1", "oracle", 6)]}
    jobs = [{"name": f"j{i}", "gpus": gpus, "duration_hours": 5 + i, "providers": prefer[: 1 + i % 3]}
            for i, gpus in enumerate(sizes)]
    result = api.run(scenario(fleet, [jobs_workload(jobs)], end="2026-01-05"))
    where = {pool["name"]: (pool["provider"], pool["region"]) for pool in fleet["pools"]}
    for row, job in zip(sorted(result.jobs.to_pylist(), key=lambda r: int(r["name"][1:])), jobs, strict=True):
        if row["pool"] is None:
            continue
        # One pool per gang, so one provider and one region, and one the job allows.
        assert row["pool"] in where and where[row["pool"]][0] in job["providers"]


def test_a_gang_larger_than_any_one_region_of_its_provider_never_fits() -> None:
    fleet = {"pools": [_pool("aws-1", "aws", 4), _pool("aws-2", "aws", 4, region="r2"), _pool("oracle-1", "oracle", 8)]}
    job = {"name": "big", "gpus": 48, "duration_hours": 1, "providers": ["aws"]}
    with pytest.raises(InputError, match=r"items\[0\]\.gpus: never fits.*aws-1, aws-2"):
        scenario(fleet, [jobs_workload([job])])
    scenario(fleet, [jobs_workload([{**job, "providers": ["oracle"]}])])  # one region holds it
