"""Planner levers for a portfolio: which contract's expansion to exercise, moving a run or a
share of serving between providers; the plan's cost per contract, by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

from gpufleet import api
from gpufleet.plan.cost import plan_cost
from gpufleet.plan.levers import Lever, parse_lever
from gpufleet.plan.paths import as_data
from gpufleet.testing import jobs_workload, scenario

TERM_H = 0.1 * 365.25 * 24  # 876.6 hours


def _pool(name: str, provider: str) -> dict:
    return {"name": name, "gpu": "H100", "provider": provider, "gpus_per_node": 8, "nodes_per_rack": 1,
            "deliveries": [{"date": "2026-01-01", "racks": 1}]}


def _contracts() -> list[dict]:
    # A commits to two racks' worth of billing over its term but has one rack unless its
    # option is exercised; B's option would add a rack and its value.
    return [
        {"name": "A", "provider": "a", "value_usd": 2 * 8 * 2.0 * TERM_H, "start": "2026-01-01", "term_years": 0.1,
         "prices_usd_per_gpu_hour": {"H100": 2.0},
         "expansions": [{"name": "a-x", "date": "2026-01-01", "pool": "a1", "racks": 1, "exercise": False}]},
        {"name": "B", "provider": "b", "value_usd": 8 * 3.0 * TERM_H, "start": "2026-01-01", "term_years": 0.1,
         "prices_usd_per_gpu_hour": {"H100": 3.0},
         "expansions": [{"name": "b-x", "date": "2026-01-01", "pool": "b1", "racks": 1, "exercise": False,
                         "value_usd": 8 * 3.0 * TERM_H}]},
    ]


def _base(**extra: object):  # noqa: ANN202
    jobs = [{"name": "big", "gpus": 16, "duration_hours": 24}]
    # Without an option the run waits a week for two on-demand racks at a third provider.
    late = {**_pool("c1", "c"), "deliveries": [{"date": "2026-01-08", "racks": 2}],
            "purchase": {"kind": "on_demand", "price_usd_per_gpu_hour": 6.88, "source": "calibration 3 (O)"}}
    return scenario({"pools": [_pool("a1", "a"), _pool("b1", "b"), late]}, [jobs_workload(jobs)], end="2026-01-11",
                    contracts=_contracts(), **extra)


def test_plan_cost_is_per_contract() -> None:
    cost = plan_cost(_base())
    # A: $28,051 committed, one rack billed over its term ($14,026): $14,026 under-used.
    assert [name for name, _, _ in cost.by_contract] == ["A", "B"]
    assert [value for row in cost.by_contract for value in row[1:]] == pytest.approx(
        [2 * 8 * 2.0 * TERM_H, 8 * 2.0 * TERM_H, 8 * 3.0 * TERM_H, 8 * 3.0 * TERM_H])
    assert cost.purchased_usd == pytest.approx(2 * 8 * 6.88 * 3 * 24)  # 8 to 11 January
    assert cost.commitment_usd == pytest.approx(2 * 8 * 2.0 * TERM_H + 8 * 3.0 * TERM_H)
    assert cost.unused_commitment_usd == pytest.approx(8 * 2.0 * TERM_H)


def _applied(base, lever: str, value: float) -> dict:  # noqa: ANN001
    data = as_data(base)
    Lever.of(parse_lever(lever)).apply(data, value, datetime(2026, 1, 1))
    return data


def test_levers_reach_each_contract_a_job_and_a_service() -> None:
    base = _base()
    data = _applied(base, "expansion:B/b-x=0,2", 2)
    option = data["contracts"][1]["expansions"][0]
    assert option["exercise"] and option["racks"] == 2 and option["value_usd"] == pytest.approx(2 * 8 * 3.0 * TERM_H)
    assert _applied(base, "expansion:a-x=0,1", 1)["contracts"][0]["expansions"][0]["exercise"]
    moved = _applied(base, "move:big@a,b=0,1", 1)
    assert moved["workloads"][0]["jobs"]["items"][0]["providers"] == ["b"]
    with pytest.raises(ValueError, match="no contract has an expansion option"):
        _applied(base, "expansion:A/b-x=1", 1)
    service = {"name": "svc", "flavors": ["H100"], "replica": {"gpus": 8}, "start": "2026-01-02",
               "end": "2026-01-03", "demand": {"requests_per_s": 1, "output_tokens_per_request": 100},
               "providers": {"split": "fixed", "shares": {"a": 0.5, "b": 0.5}}}
    shared = _applied(_base(services=[service]), "share:svc@b=0..1/0.25", 0.75)
    assert shared["services"][0]["providers"]["shares"] == {"b": 0.75, "a": 0.25}


def test_the_planner_exercises_the_option_that_leaves_no_commitment_under_used(tmp_path) -> None:  # noqa: ANN001
    # The 16-GPU run needs two racks in one pool: either option gives them; only A's costs
    # nothing more (A's commitment is owed anyway) and leaves A's commitment used.
    result = api.plan(_base(), ["wait_days[big] <= 0.5", "projected_shortfall_usd[A] <= 1"],
                      ["expansion:A/a-x=0..1", "expansion:B/b-x=0..1"], replications=1, confidence=0.5,
                      demand=(), price=(), workers=1, store_root=tmp_path)
    best = result.solution.best
    assert best is not None and best.values == (1.0, 0.0)
    assert best.cost.unused_commitment_usd == pytest.approx(0.0, abs=1e-6)


def test_the_api_lists_contracts_and_prices_a_plan() -> None:
    base = _base()
    rows = api.contracts(base)
    assert [(row["name"], row["pools"]) for row in rows] == [("A", ["a1"]), ("B", ["b1"]),
                                                              ("outside commitments", ["c1"])]
    cost = api.plan_cost(base)
    assert [row["name"] for row in cost["contracts"]] == ["A", "B"]
    assert cost["unused_commitment_usd"] == pytest.approx(8 * 2.0 * TERM_H)
