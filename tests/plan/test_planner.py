"""The planner against known answers: Erlang C on an M/M/c fleet, and a hand-worked
deadline for one big job; plan files, levers, costs and the plan written as a scenario."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
import yaml

from gpufleet import api
from gpufleet.catalog import CATALOG
from gpufleet.errors import InputError
from gpufleet.plan.cost import plan_cost
from gpufleet.plan.levers import Lever, parse_lever
from gpufleet.plan.paths import as_data, rebuild
from gpufleet.serving.erlang import erlang_c
from gpufleet.sim.load import parse_scenario
from gpufleet.testing import jobs_workload, scenario

ARRIVALS_PER_H, MEAN_RUN_H, TARGET_WAIT_H = 4.0, 1.0, 0.09


def mmc_base():  # noqa: ANN201
    """1-GPU racks (one server each), Poisson arrivals, exponential runs, strict FIFO: M/M/c with c = racks."""
    fleet = {"pools": [{"name": "mmc", "gpu": "H100", "gpus_per_node": 1, "nodes_per_rack": 1,
                        "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
    workload = {"synthetic": {"name": "mmc", "arrivals": {"rate_per_day": ARRIVALS_PER_H * 24},
                              "sizes": [{"gpus": 1, "weight": 1,
                                         "duration": {"dist": "exponential", "mean_hours": MEAN_RUN_H}}]}}
    return scenario(fleet, [workload], end="2026-02-10", seed=1, backfill=False)


def erlang_c_servers(target_wait_h: float) -> int:
    """Smallest c whose Erlang C mean wait C(c, a) / (c mu - lambda) is within the target."""
    offered = ARRIVALS_PER_H * MEAN_RUN_H
    c = math.floor(offered) + 1
    while float(erlang_c(np.array([c]), np.array([offered]))[0]) / (c / MEAN_RUN_H - ARRIVALS_PER_H) > target_wait_h:
        c += 1
    return c


def test_smallest_fleet_meeting_a_mean_wait_is_erlang_c(tmp_path) -> None:  # noqa: ANN001
    expected = erlang_c_servers(TARGET_WAIT_H)
    assert expected == 7  # 0.142 h at 6 servers, 0.045 h at 7
    result = api.plan(mmc_base(), [f"wait_mean_h <= {TARGET_WAIT_H}"], ["racks:mmc[0]=0..11"], replications=3,
                      confidence=0.9, demand=(), workers=2, store_root=tmp_path)
    best = result.solution.best
    assert 1 + best.values[0] == expected and result.solution.complete
    miss, rows = result.solution.cheaper_miss()
    assert 1 + miss.values[0] == expected - 1 and not rows[0].met  # the plan one GPU smaller misses
    assert result.solution.binding().target == f"wait_mean_h <= {TARGET_WAIT_H}"
    assert sum(1 for c in result.solution.candidates if c.run) < 12  # bisection, not a scan
    # Cost: c GPUs x the H100 list price x the horizon's hours (no contract).
    hours = (datetime(2026, 2, 10) - datetime(2026, 1, 1)).total_seconds() / 3600
    price = CATALOG["H100"].list_price_usd_per_gpu_hour
    assert best.cost.total_usd == pytest.approx(expected * hours * price)


def deadline_base():  # noqa: ANN201
    """Racks of 8 GPUs arrive every 10 days (6 deliveries, 2 racks each); one job of 96 GPUs (12 racks) for 15
    days waits for capacity and must finish within 60 days of the start."""
    deliveries = [{"date": f"2026-{1 + (10 * k) // 31:02d}-{1 + (10 * k) % 31:02d}", "racks": 2} for k in range(6)]
    fleet = {"pools": [{"name": "pool", "gpu": "H100", "gpus_per_node": 8, "nodes_per_rack": 1,
                        "deliveries": deliveries}]}
    job = {"name": "big", "gpus": 96, "group_size": 8, "duration_days": 15, "submit": "when_capacity"}
    return scenario(fleet, [jobs_workload([job])], end="2026-04-15", seed=1)


def test_deadline_of_one_big_job_matches_the_hand_calculation(tmp_path) -> None:  # noqa: ANN001
    # By hand: r racks a delivery reach 12 racks at delivery ceil(12 / r) - 1, i.e. on day 10 (ceil(12/r) - 1);
    # the job ends 15 days later. Finish by day 60: ceil(12 / r) <= 5, r >= 2.4, so r = 3 (day 30 + 15 = 45);
    # r = 2 reaches 12 racks on day 50 and finishes on day 65. r = 1 never holds the job (6 racks).
    base = deadline_base()
    result = api.plan(base, ["finish_day[big] <= 2026-03-02"], ["scale:pool=0.5..3/0.5"], replications=2,
                      demand=(), workers=1, store_root=tmp_path)
    best = result.solution.best
    assert best.values == (1.5,) and [d.racks for d in best.scenario.fleet.pools[0].deliveries] == [3] * 6
    metrics = best.records[0].metrics
    assert metrics["start_day[big]"] == pytest.approx(30.0) and metrics["finish_day[big]"] == pytest.approx(45.0)
    miss, _ = result.solution.cheaper_miss()
    assert miss.values == (1.0,) and miss.records[0].metrics["finish_day[big]"] == pytest.approx(65.0)
    assert "never fit" in next(c for c in result.solution.candidates if c.values == (0.5,)).error
    # The plan is a scenario file that loads back to the same scenario.
    text = result.plan_yaml()
    assert text.startswith("# gpufleet plan: deliveries of pool x1.5")
    assert parse_scenario(text) == best.scenario
    written = result.write(tmp_path / "out")
    assert (written / "plan.yaml").exists() and (written / "plans.parquet").exists()


def test_levers_change_what_they_say_and_costs_follow() -> None:
    default = api.load("openai-aws-2025")
    decided = default.start

    def applied(text: str, value: float):  # noqa: ANN202
        data = as_data(default)
        Lever.of(parse_lever(text)).apply(data, value, decided)
        return rebuild(data, text)

    half = applied("expansion:2027-h1=0..500/250", 250)
    option = half.contract.expansions[0]
    assert (option.racks, option.exercise, option.value_usd) == (250, True, pytest.approx(3.88e9 / 2))
    assert not applied("expansion:2027-h1=0,500", 0).contract.expansions[0].exercise
    assert [d.racks for d in applied("scale:gb300=1.1", 1.1).fleet.pools[1].deliveries][:2] == [110, 165]
    assert applied("shift:gb300=-30", -30).fleet.pools[1].deliveries[0].date == datetime(2026, 3, 2)
    assert applied("racks:gb200[0]=10", 10).fleet.pools[0].deliveries[0].racks == 110
    assert applied("spares=0..2", 2).failures.spares.nodes_per_rack == 2
    bought = applied("buy:capacity_block:GB200@2027-04-01+28=10", 10).fleet.pools[-1]
    assert bought.purchase.price_usd_per_gpu_hour == 10.58 and "calibration.md 3" in bought.purchase.source
    assert bought.retirements[0].date == datetime(2027, 4, 29)
    # Costs: a capacity block costs racks x 72 GPUs x 28 days x $10.58; halving the option halves its value.
    base_cost = plan_cost(default)
    block = plan_cost(applied("buy:capacity_block:GB200@2027-04-01+28=10", 10))
    assert block.purchased_usd == pytest.approx(10 * 72 * 28 * 24 * 10.58)
    assert block.commitment_usd == base_cost.commitment_usd
    assert plan_cost(half).committed_usd == pytest.approx(base_cost.committed_usd - 3.88e9 / 2)
    with pytest.raises(ValueError, match="lead time"):
        Lever.of(parse_lever("buy:capacity_block:GB200@2025-11-03=1")).apply(as_data(default), 1, decided)
    with pytest.raises(ValueError, match="no sourced on_demand price for GB200"):
        Lever.of(parse_lever("buy:on_demand:GB200@2026-01-01=1")).apply(as_data(default), 1, decided)


def test_plan_file_and_bad_input(tmp_path) -> None:  # noqa: ANN001
    base = tmp_path / "deadline.yaml"
    base.write_text(yaml.safe_dump(deadline_base().model_dump(mode="json", exclude_defaults=True)))
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"name": "deadline", "base": "deadline.yaml", "replications": 1,
                                    "targets": ["finish_day[big] <= 60"],
                                    "levers": [{"lever": "scale:pool", "values": {"from": 1, "to": 2, "step": 0.5}}],
                                    "sensitivity": {"demand": [], "purchase_price": []}}, sort_keys=False))
    result = api.plan_file(plan, workers=1, store_root=tmp_path / "store")
    assert result.solution.best.values == (1.5,)
    plan.write_text("name: x\nbase: deadline.yaml\ntargets: ['finish_day[big] <= 60']\nlevers:\n"
                    "  - {lever: 'grow:pool', values: [1]}\n")
    with pytest.raises(InputError, match=r"plan.yaml:5: levers\[0\]: unknown lever 'grow'"):
        api.plan_file(plan, workers=1, store_root=tmp_path / "store")
    with pytest.raises(InputError, match="--vary 'scale:pool'"):
        api.plan(deadline_base(), ["finish_day[big] <= 60"], ["scale:pool"], workers=1, store_root=tmp_path)
