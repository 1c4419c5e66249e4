"""Invariants of a portfolio (hypothesis): every pool's GPU-hours are billed to exactly one
contract or bought outside them, and the portfolio's totals are the sum of its contracts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.testing import jobs_workload, scenario

PROVIDERS = ("aws", "azure", "oracle")


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[list[dict], list[dict], list[dict]]:
    pools = []
    for i in range(draw(st.integers(2, 5))):
        pool = {"name": f"p{i}", "gpu": "H100", "provider": draw(st.sampled_from(PROVIDERS)), "gpus_per_node": 8,
                "nodes_per_rack": 1, "deliveries": [{"date": f"2026-01-0{draw(st.integers(1, 5))}",
                                                     "racks": draw(st.integers(1, 3))}]}
        if draw(st.booleans()) and i:
            pool["purchase"] = {"kind": "on_demand", "price_usd_per_gpu_hour": 6.88, "source": "calibration 3"}
        pools.append(pool)
    providers = sorted({pool["provider"] for pool in pools if "purchase" not in pool})
    contracts = [{"name": provider, "provider": provider, "value_usd": 1.0e9, "start": "2026-01-01",
                  "term_years": 1, "kind": draw(st.sampled_from(["take_or_pay", "minimum_spend"])),
                  "prices_usd_per_gpu_hour": {"H100": draw(st.sampled_from([1.5, 2.0, 2.5]))}}
                 for provider in providers]
    jobs = [{"name": f"j{k}", "gpus": draw(st.sampled_from([8, 16])), "duration_hours": draw(st.integers(5, 60)),
             "providers": [draw(st.sampled_from(providers or list(PROVIDERS)))]}
            for k in range(draw(st.integers(1, 6)))]
    return pools, contracts, jobs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolio=portfolios())
def test_each_gpu_hour_is_billed_once(portfolio: tuple[list[dict], list[dict], list[dict]]) -> None:
    pools, contracts, jobs = portfolio
    if not contracts:
        return
    jobs = [job for job in jobs if any(p["provider"] == job["providers"][0] for p in pools)]
    try:
        spec = scenario({"pools": pools}, [jobs_workload(jobs)] if jobs else [], end="2026-01-20",
                        contracts=contracts)
    except InputError:  # a job that fits no pool of its provider
        return
    result = api.run(spec)
    event("ran")
    money = result.summary["money"]
    rows = {row["name"]: row for row in result.summary["capacity"]["pools"]}
    owners = [name for contract in money["contracts"] for name in contract["pools"]]
    bought = [pool["name"] for pool in pools if "purchase" in pool]
    assert sorted(owners + bought) == sorted(rows) and len(set(owners)) == len(owners)
    for contract in money["contracts"]:
        hours = "installed_gpu_hours" if contract["kind"] == "take_or_pay" else "allocated_gpu_hours"
        assert contract["billed_usd"] == pytest.approx(
            sum(rows[name][hours] * rows[name]["price_usd_per_gpu_hour"] for name in contract["pools"]))
    purchased = sum(rows[name]["installed_gpu_hours"] * 6.88 for name in bought)
    assert money.get("purchased_usd", 0.0) == pytest.approx(purchased)
    for key in ("billed_usd", "used_usd", "committed_to_date_usd", "projected_shortfall_usd"):
        assert money["portfolio"][key] == pytest.approx(sum(row[key] for row in money["contracts"]))
    assert money["billed_usd"] == pytest.approx(money["portfolio"]["billed_usd"])
