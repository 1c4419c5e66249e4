"""Vera Rubin NVL144 (VR200) in the catalog, and a pool that only a contract option fills, so a
scenario's expansion can be either GB300 or Rubin."""

from __future__ import annotations

import math

import pytest

from gpufleet import api
from gpufleet.catalog import lookup
from gpufleet.errors import InputError
from gpufleet.rng import stream
from gpufleet.serving.throughput import default_prefill, default_throughput
from gpufleet.testing import scenario


def test_vr200_figures_and_sources() -> None:
    rubin = lookup("vr200")
    assert (rubin.gpus_per_node, rubin.nvlink_domain_gpus, rubin.hbm_gb) == (4, 72, 288)
    assert rubin.fp8_dense_tflops == pytest.approx(1.2e6 / 72, abs=1)  # 1.2 EF FP8 per rack of 72 packages
    assert rubin.fp8_dense_tflops / lookup("GB300").fp8_dense_tflops == pytest.approx(3.33, abs=0.01)
    assert rubin.list_price_usd_per_gpu_hour is None and len(rubin.sources) >= 3
    assert default_throughput("VR200").tokens_per_s_per_gpu == 6000.0 * 13 / 8
    assert default_prefill("VR200").tokens_per_s_per_gpu == pytest.approx(39234.0 * 3.3, abs=1)


def option_fleet(exercise: bool, risk: dict | None = None) -> tuple[dict, dict]:
    rubin = {"name": "vr200", "gpu": "VR200", "deliveries": [], **({"delivery_risk": risk} if risk else {})}
    fleet = {"pools": [{"name": "gb300", "gpu": "GB300", "deliveries": [{"date": "2026-01-01", "racks": 2}]}, rubin]}
    contract = {"value_usd": 1.0e7, "start": "2026-01-01", "term_years": 1,
                "prices_usd_per_gpu_hour": {"GB300": 2.2, "VR200": 7.33},
                "expansions": [{"name": "rubin", "date": "2026-02-01", "pool": "vr200", "racks": 3,
                                "exercise": exercise}]}
    return fleet, contract


def test_an_option_fills_an_empty_pool_with_rubin_racks() -> None:
    jobs = [{"jobs": {"name": "j", "items": [{"name": "r", "gpus": 144, "group_size": 72, "duration_hours": 10,
                                               "flavors": ["VR200"], "submit": "when_capacity"}]}}]
    fleet, contract = option_fleet(True, {"slip": {"dist": "fixed", "days": 5}, "burn_in_days": 2})
    result = api.run(scenario(fleet, jobs, end="2026-03-01", seed=4, contract=contract))
    row = result.jobs.to_pylist()[0]
    # Planned on 1 February + 2 days of burn-in; slipped 5 days: takes work on 8 February.
    assert row["submit_s"] == (31 + 2) * 86400 and row["start_s"] == (31 + 7) * 86400 and row["pool"] == "vr200"
    pools = {pool["name"]: pool for pool in result.summary["capacity"]["pools"]}
    assert pools["vr200"]["installed_gpus_at_end"] == 3 * 72 and pools["vr200"]["price_usd_per_gpu_hour"] == 7.33
    delivery = next(d for d in result.summary["capacity"]["deliveries"] if d["pool"] == "vr200")
    assert delivery["key"] == "expansion/rubin" and delivery["slip_days"] == 5.0


def test_an_unexercised_option_leaves_the_pool_empty_and_an_unfilled_pool_is_refused() -> None:
    fleet, contract = option_fleet(False)
    result = api.run(scenario(fleet, [], end="2026-03-01", contract=contract))
    pools = {pool["name"]: pool for pool in result.summary["capacity"]["pools"]}
    assert pools["vr200"]["installed_gpus_at_end"] == 0 and pools["gb300"]["installed_gpus_at_end"] == 144
    with pytest.raises(InputError, match="needs deliveries, or a contract expansion"):
        scenario(fleet, [])


def test_expansion_slips_draw_from_their_own_stream() -> None:
    fleet, contract = option_fleet(True, {"slip": {"dist": "lognormal", "median_days": 30, "sigma": 0.8}})
    rows = api.run(scenario(fleet, [], end="2026-06-01", seed=9, contract=contract)).summary["capacity"]["deliveries"]
    drawn = next(row["slip_days"] for row in rows if row["key"] == "expansion/rubin")
    assert drawn == pytest.approx(stream(9, "deliveries/vr200/expansion/rubin").lognormal(math.log(30), 0.8))
