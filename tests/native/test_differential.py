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
from tests.native.differential import compare_files, compare_records, drawn_scenario

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from engine import scenario_yaml  # noqa: E402  (the benchmark's scenario, scaled down)

EXAMPLES = int(os.environ.get("GPUFLEET_DIFFERENTIAL_EXAMPLES", "25"))


@pytest.mark.parametrize("name", ["research-lab", "openb-replay"])
def test_built_in_scenarios_in_the_subset(name: str) -> None:
    scenario = api.load(name)
    compare_records(scenario)
    compare_files(scenario)


def test_kueue_cohort_queues_without_preemption() -> None:
    """kueue-cohort's quotas, cohort, borrowing and lending (six weeks), its queues' preemption
    settings taken out: the quota-blocked jobs wait with the limit that stops them."""
    data = yaml.safe_load(api.load("kueue-cohort").model_dump_json())
    for queue in data["scheduler"]["queues"]:
        queue.pop("preemption")
    scenario = parse_scenario(yaml.safe_dump(data), source="<kueue-cohort without preemption>")
    record = compare_records(scenario, until=datetime(2026, 4, 15))
    assert any(why.startswith("quota: GB200 cohort pool") for changes in record.history.values()
               for _, why in changes)
    compare_files(scenario, until=datetime(2026, 4, 15))


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
