"""The native core against the Python engine (the reference): the same record and the same
files, on built-in and test scenarios in the core's subset and on drawn fleets and workloads.
The fixed slice runs here; `make differential` runs 1,000+ drawn cases (docs/validation.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
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
