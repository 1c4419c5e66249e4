"""Capacity bought outside the commitment: billed at its own price for its window, apart
from the commitment; spot racks reclaimed at their rate; contract pools unchanged."""

from __future__ import annotations

import json

import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.testing import jobs_workload, scenario


def _fleet(purchase: dict | None) -> dict:
    pools = [{"name": "main", "gpu": "H100", "gpus_per_node": 8, "nodes_per_rack": 1,
              "deliveries": [{"date": "2026-01-01", "racks": 2}]}]
    burst = {"name": "burst", "gpu": "H100", "gpus_per_node": 8, "nodes_per_rack": 1,
             "deliveries": [{"date": "2026-01-11", "racks": 3}], "retirements": [{"date": "2026-01-21", "racks": 3}]}
    if purchase is not None:
        burst["purchase"] = purchase
    return {"pools": pools + [burst]}


CONTRACT = {"value_usd": 1.0e6, "start": "2026-01-01", "term_years": 1, "prices_usd_per_gpu_hour": {"H100": 2.0}}


def test_a_capacity_block_is_billed_apart_at_its_price_for_its_window() -> None:
    purchase = {"kind": "capacity_block", "price_usd_per_gpu_hour": 5.191, "source": "calibration.md 3"}
    bought = api.run(scenario(_fleet(purchase), [], end="2026-02-01", contract=CONTRACT))
    plain = api.run(scenario(_fleet(None), [], end="2026-02-01", contract=CONTRACT))
    money = bought.summary["money"]
    # By hand: 3 racks x 8 GPUs x 10 days x 24 h x $5.191 (no job holds them past the window).
    assert money["purchased_usd"] == pytest.approx(3 * 8 * 240 * 5.191)
    # The commitment pays for the contract pool only: 2 racks x 8 GPUs x 31 days x 24 h x $2.
    assert money["billed_usd"] == pytest.approx(2 * 8 * 31 * 24 * 2.0)
    assert money["committed_to_date_usd"] == plain.summary["money"]["committed_to_date_usd"]
    # Without `purchase` the same pool is contract capacity billed at the contract price.
    assert plain.summary["money"]["billed_usd"] == pytest.approx(2 * 8 * 31 * 24 * 2.0 + 3 * 8 * 240 * 2.0)
    assert "purchased_usd" not in plain.summary["money"] and "purchased_usd" not in plain.ledger.column_names
    assert sum(bought.ledger["purchased_usd"].to_pylist()) == pytest.approx(money["purchased_usd"])
    pool = bought.summary["capacity"]["pools"][1]
    assert (pool["price_usd_per_gpu_hour"], pool["price_source"]) == (5.191, "purchase (capacity_block)")
    # Projected term billing leaves purchased capacity out (it has left by the horizon anyway).
    assert money["run_rate_usd_per_hour_at_end"] == pytest.approx(2 * 8 * 2.0)


def test_spot_racks_are_reclaimed_at_their_rate() -> None:
    purchase = {"kind": "spot", "price_usd_per_gpu_hour": 2.6, "interruptions_per_rack_day": 0.5,
                "reclaim_hours": 3, "source": "calibration.md 3 (price); rate: assumption"}
    jobs = [{"name": f"j{i}", "gpus": 8, "duration_hours": 48, "flavors": ["H100"]} for i in range(5)]
    result = api.run(scenario(_fleet(purchase), [jobs_workload(jobs)], end="2026-03-01", contract=CONTRACT), seed=3)
    failures = result.failures.to_pylist()
    reclaims = [f for f in failures if f["cause"] == "spot reclaim"]
    assert reclaims and len(reclaims) == len(failures)
    assert {f["pool"] for f in reclaims} == {"burst"} and all(f["component"] == "rack" for f in reclaims)
    # 3 racks x 10 days x 0.5 a day: 15 expected; Poisson, so within 4 standard deviations.
    assert abs(len(reclaims) - 15) <= 4 * 15 ** 0.5
    assert all(f["repaired_s"] is None or f["repaired_s"] - f["t_s"] == pytest.approx(3 * 3600) for f in reclaims)
    with pytest.raises(InputError, match=r"fleet.pools\[1\].purchase: .*spot capacity only"):
        scenario(_fleet({"kind": "on_demand", "price_usd_per_gpu_hour": 6.88, "interruptions_per_rack_day": 1}),
                 [], contract=CONTRACT)


def test_contract_pools_write_no_purchase_key() -> None:
    default = api.load("openai-aws-2025")
    assert "purchase" not in json.loads(default.model_dump_json())["fleet"]["pools"][0]
