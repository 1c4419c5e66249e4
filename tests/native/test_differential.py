"""The native core against the Python engine (the reference): the same record and the same
files, on built-in and test scenarios in the core's subset and on drawn fleets and workloads.
The fixed slice runs here; `make differential` runs 1,000+ drawn cases (docs/validation.md)."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.sim.load import parse_scenario
from gpufleet.spec.scheduler import FairShareDecaySpec, PolicySpec, PreemptionCost, Ties
from tests.native.differential import compare_files, compare_records, drawn_scenario

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from engine import scenario_yaml  # noqa: E402  (the benchmark's scenario, scaled down)

EXAMPLES = int(os.environ.get("GPUFLEET_DIFFERENTIAL_EXAMPLES", "25"))


@pytest.mark.parametrize("name", ["research-lab", "openb-replay"])
def test_built_in_scenarios_in_the_subset(name: str) -> None:
    scenario = api.load(name)
    compare_records(scenario)
    compare_files(scenario)


def test_kueue_cohort_cut_short() -> None:
    """Quotas, a cohort, borrowing, lending and Kueue preemption (reclaim, within the queue)
    over two months: quota-blocked jobs wait with the limit that stops them."""
    scenario, until = api.load("kueue-cohort"), datetime(2026, 5, 1)
    record = compare_records(scenario, until=until)
    assert record.preemptions.sum() > 0
    assert any(why.startswith("quota: GB200 cohort pool") for changes in record.history.values()
               for _, why in changes)
    compare_files(scenario, until=until)


@pytest.mark.parametrize("policy", ["fifo", "fgf", "sjf", "sjf-predicted"])
def test_tiresias_style_under_policies_whose_keys_do_not_move(policy: str) -> None:
    """The openb replay on 64 GPUs: stable ties are submit order and nothing preempts under
    these; sjf on its jobs' run times or on run times predicted from completed jobs."""
    base = api.load("tiresias-style")
    chosen = PolicySpec(name="sjf", estimates="predicted") if policy == "sjf-predicted" else PolicySpec(name=policy)
    scenario = base.model_copy(update={"scheduler": base.scheduler.model_copy(update={"policy": chosen})})
    record = compare_records(scenario)
    assert (record.status == "completed").sum() > 5_000
    compare_files(scenario)


@pytest.mark.parametrize(("policy", "cost"), [("las", "none"), ("srtf", "checkpoint"), ("srsf", "none")])
def test_tiresias_style_under_preemptive_policies(policy: str, cost: str) -> None:
    """The openb replay's first day under 2D-LAS (the scenario's thresholds, no starvation
    guard), SRTF and SRSF: hundreds of preemptions and las' demotion timers, free (the work
    counted exactly) or at checkpoint cost; ties in submit order (stable ties stay on Python)."""
    base = api.load("tiresias-style")
    chosen = base.scheduler.policy if policy == "las" else PolicySpec(name=policy)
    scenario = base.model_copy(update={"scheduler": base.scheduler.model_copy(
        update={"policy": chosen, "ties": Ties.submit_order, "preemption_cost": PreemptionCost(cost)})})
    until = datetime(2023, 1, 3)
    record = compare_records(scenario, until=until)
    assert record.preemptions.sum() > 100
    compare_files(scenario, until=until)


@pytest.mark.parametrize("half_life_hours", [None, 72.0])
def test_kueue_cohort_under_drf(half_life_hours: float | None) -> None:
    """Weighted dominant-resource fair share between the three queues (four weeks), on the GPUs
    held now or on usage decayed with a 72-hour half-life, beside the queues' Kueue preemption."""
    base = api.load("kueue-cohort")
    scenario = base.model_copy(update={"scheduler": base.scheduler.model_copy(update={
        "policy": PolicySpec(name="drf"), "fair_share": FairShareDecaySpec(half_life_hours=half_life_hours)})})
    until = datetime(2026, 3, 30)
    compare_records(scenario, until=until)
    compare_files(scenario, until=until)


def preemption_scenario(scope: str, backfill: str) -> str:
    """Two queues in a cohort on 48 GPUs, every Kueue preemption rule in play: high-priority
    short jobs of team a, long low-priority ones of team c, checkpoints every half hour."""
    workloads = [{"synthetic": {"name": f"w{team}", "team": team, "arrivals": {"rate_per_day": rate},
                                "sizes": [{"gpus": gpus, "weight": weight, "duration": {
                                    "dist": "lognormal", "median_hours": hours, "sigma": 1}}
                                          for gpus, weight in ((8, 2), (16, 1))]}}
                 for team, rate, hours in (("a", 6, 4), ("b", 6, 8), ("c", 12, 30))]
    data = {"name": "preemption", "start": "2026-01-01", "end": "2026-01-15", "seed": 5,
            "fleet": {"pools": [{"name": "p0", "gpu": "H100", "gpus_per_node": 8, "nodes_per_rack": 1,
                                 "racks_per_block": 2, "deliveries": [{"date": "2026-01-01", "racks": 6}]}]},
            "workloads": workloads,
            "scheduler": {"policy": "priority", "backfill": backfill, "preemption_scope": scope,
                          "priority_classes": [{"name": "high", "value": 100, "teams": ["a"]},
                                               {"name": "mid", "value": 50, "teams": ["b"]},
                                               {"name": "low", "value": 1, "default": True}],
                          "cohorts": [{"name": "lab"}],
                          "queues": [{"name": "q0", "tenants": ["a"], "cohort": "lab", "nominal": {"H100": 24},
                                      "preemption": {"within_cluster_queue": "LowerPriority",
                                                     "reclaim_within_cohort": "Any"}},
                                     {"name": "q1", "tenants": ["*"], "cohort": "lab", "nominal": {"H100": 24},
                                      "borrowing_limit": {"H100": 16},
                                      "preemption": {"within_cluster_queue": "LowerOrNewerEqualPriority",
                                                     "reclaim_within_cohort": "LowerPriority",
                                                     "borrow_within_cohort": "LowerPriority"}}]},
            "checkpointing": {"interval_hours": 0.5, "write_minutes": 1.0, "restart_overhead_minutes": 7}}
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(("scope", "backfill"), [("first_blocked", "none"), ("first_blocked", "easy"),
                                                 ("any", "greedy"), ("any", "easy")])
def test_kueue_preemption(scope: str, backfill: str) -> None:
    scenario = parse_scenario(preemption_scenario(scope, backfill), source="<preemption>")
    record = compare_records(scenario)
    assert record.preemptions.sum() > 50
    assert record.lost_gpu_s.sum() > 0 and record.overhead_gpu_s.sum() > 0  # checkpoint restarts cost
    compare_files(scenario)


@pytest.mark.parametrize("backfill", ["none", "greedy", "easy"])
def test_the_benchmark_case_scaled_down(backfill: str) -> None:
    text = scenario_yaml(3_000, 3_600).replace("backfill: true", f"backfill: {backfill}")
    scenario = parse_scenario(text, source="<benchmark>")
    record = compare_records(scenario)
    assert (record.status == "completed").sum() > 1_000  # a real run, not an empty one
    assert record.history  # jobs waited, with reasons
    compare_files(scenario)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(st.data())
def test_drawn_fleets_and_workloads(data: st.DataObject) -> None:
    try:
        scenario = drawn_scenario(data.draw)
    except InputError:
        reject()  # a drawn combination the scenario rules refuse
    compare_records(scenario)
    compare_files(scenario)
