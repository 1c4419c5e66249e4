"""The native core against the Python engine on runs with failures: the default scenarios
without their services (cut short), hand-made and fitted failure processes, spot reclaims,
and drawn failure sections; the same record and the same files."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from gpufleet import _core, api
from gpufleet.errors import InputError
from gpufleet.failures.fit import failures_yaml, fit_faults
from gpufleet.sim import native
from gpufleet.sim.build import build
from gpufleet.sim.load import parse_scenario
from gpufleet.testing import jobs_workload, scenario
from gpufleet.traces.faults import read_faults
from tests.e2e.test_failure_commands import FAILING_LAB
from tests.native.differential import compare_files, compare_records, drawn_scenario
from tests.native.failures import INJECTED_LAB
from tests.unit.test_purchase import CONTRACT, _fleet

EXAMPLES = int(os.environ.get("GPUFLEET_DIFFERENTIAL_FAILURE_EXAMPLES", "12"))


def test_the_default_scenario_without_its_services() -> None:
    default = api.load("openai-aws-2025")
    without_services = default.model_copy(update={"services": []})
    until = default.start + timedelta(days=45)
    record = compare_records(without_services, until)
    assert len(record.failures) > 20 and any(f.spare_used for f in record.failures)
    assert record.interruptions.sum() > 0
    compare_files(without_services, until)


def test_placement_across_providers_in_order_stays_on_python() -> None:
    """The portfolio's jobs try their providers' pools in order (Kueue's TryNextFlavor),
    which the core does not (it would place on all of them at once: a year into the
    portfolio without services, the engines part)."""
    portfolio = api.load("openai-portfolio-2026").model_copy(update={"services": []})
    assert native.choose(build(portfolio), "auto") == (
        False, "providers in order of preference (queue or workload `providers`)")


@pytest.mark.parametrize("text", [FAILING_LAB, INJECTED_LAB], ids=["failing-lab", "injected-lab"])
def test_hand_made_failure_scenarios(text: str) -> None:
    lab = parse_scenario(text, source="<test>")
    record = compare_records(lab)
    assert record.failures and record.interruptions.sum() > 0
    compare_files(lab)


def test_the_injected_lab_takes_every_path() -> None:
    record = compare_records(parse_scenario(INJECTED_LAB, source="<test>"))
    components = {f.component for f in record.failures}
    assert components == {"gpu", "node", "rack", "block"}
    assert any(f.spare_used for f in record.failures) and any(f.process == "injected" for f in record.failures)
    assert (record.status == "failed").any()  # past max_restarts
    assert any(why.startswith("interrupted: ") for changes in record.history.values() for _, why in changes)


def test_the_stepfun_fault_log_fitted(shared: Path) -> None:
    trace = read_faults(shared / "traces" / "stepfun-infinitehbd-faults" / "fault_trace.json", servers=400,
                        observed_days=348)
    processes, _ = fit_faults(trace, "fault_trace.json")
    fleet = {"pools": [{"name": "servers", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 64}]}]}
    sizes = [{"name": f"j{i}", "gpus": 8 * (1 + i % 4), "duration_hours": 20 + i % 30}
             for i in range(60)]
    fitted = scenario(fleet, [jobs_workload(sizes)], end="2026-03-15", seed=5, **failures_yaml(processes))
    record = compare_records(fitted)
    assert len(record.failures) > 10
    compare_files(fitted)


def test_spot_reclaims() -> None:
    purchase = {"kind": "spot", "price_usd_per_gpu_hour": 2.6, "interruptions_per_rack_day": 0.5,
                "reclaim_hours": 3, "source": "calibration.md 3 (price); rate: assumption"}
    jobs = [{"name": f"j{i}", "gpus": 8, "duration_hours": 48, "flavors": ["H100"]} for i in range(5)]
    spot = scenario(_fleet(purchase), [jobs_workload(jobs)], end="2026-03-01", contract=CONTRACT, seed=3)
    record = compare_records(spot)
    assert record.failures and {f.cause for f in record.failures} == {"spot reclaim"}
    compare_files(spot)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(st.data())
def test_drawn_fleets_with_failures(data: st.DataObject) -> None:
    try:
        drawn = drawn_scenario(data.draw, failures=True)
    except InputError:
        reject()  # a drawn combination the scenario rules refuse
    compare_records(drawn)
    compare_files(drawn)


def test_an_exception_in_the_failure_draws_stops_the_run_and_is_raised() -> None:
    spec = native.core_spec(build(parse_scenario(FAILING_LAB, source="<test>")))

    class Broken:
        def __getattr__(self, name: str) -> Any:
            def draw(*_: Any) -> Any:
                raise ValueError(f"no {name} today")
            return draw

    spec["failure_draws"] = Broken()
    with pytest.raises(ValueError, match=r"no (gap|clocks) today"):
        _core.run(spec)


def test_hundreds_of_failure_causes_are_coded_after_the_quota_reasons() -> None:
    # 300 causes: more than a byte of reason codes, each "interrupted: <cause>" its own code.
    many = "causes: {" + ", ".join(f"c{i}: 1" for i in range(300)) + "}"
    text = INJECTED_LAB.replace("causes: {xid: 2, ecc: 1}", many)
    simulation = build(parse_scenario(text, source="<test>"))
    assert native.choose(simulation, "auto") == (True, None)
    compare_records(parse_scenario(text, source="<test>"))
