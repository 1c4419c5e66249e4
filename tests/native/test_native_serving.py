"""Inference services on the native core, piece by piece against the Python engine (the
reference). The autoscaler (`serving/autoscaler.rs`) gives the goal the Python engine gives
at every decision, on drawn policies and demand and on the built-in scenarios' services run by
the Python engine; the victim search (`serving/victims.rs`) picks the jobs the Python engine
picks at every replica that preempts, on the scheduler as it stands at that moment."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gpufleet import api
from gpufleet.sched import preemption
from gpufleet.sched.core import SchedulerView
from gpufleet.serving.autoscaler import Autoscaler
from gpufleet.sim.build import build
from gpufleet.sim.native_serving import autoscaler_policy, core_gang_victims, core_goals
from gpufleet.spec.serving import ReplicaPolicySpec, SharingMode, SharingSpec

_core = pytest.importorskip("gpufleet._core")

EXAMPLES = int(os.environ.get("GPUFLEET_DIFFERENTIAL_EXAMPLES", "25")) * 4  # cheap: no run


def python_goals(scaler: Autoscaler, rates: list[float], warm: bool) -> list[int]:
    """The goals `ServingFleet._on_decision` computes (decision k decides on interval k - 1)."""
    goals = []
    for k in range(len(rates)):
        if k == 0:
            goals.append(scaler.start(rates[0]) if warm else scaler.target)
        else:
            goals.append(scaler.decide(rates[k - 1]))
    return goals


@st.composite
def policy_and_rates(draw: st.DrawFn) -> tuple[Autoscaler, list[float]]:
    interval = draw(st.sampled_from([30.0, 60.0, 300.0, 450.0, 900.0]))
    delays = st.sampled_from([0.0, 30.0, 299.9999999999, 300.0, 600.0, 1200.0, 3600.0])
    try:
        policy = ReplicaPolicySpec(
            min_replicas=draw(st.integers(0, 4)),
            max_replicas=draw(st.none() | st.integers(1, 64)),
            target_qps_per_replica=draw(st.none() | st.floats(0.05, 500.0, allow_nan=False)),
            upscale_delay_seconds=draw(delays), downscale_delay_seconds=draw(delays))
    except ValidationError:
        reject()
    scaler = Autoscaler.from_spec(policy, interval)
    per = scaler.target_qps_per_replica or 1.0
    # Demand around whole multiples of the per-replica rate (the ceiling's edges), and anywhere.
    near = st.tuples(st.integers(0, 80), st.sampled_from([0.0, 1e-12, -1e-12, 1e-9, 0.5])).map(
        lambda m: max(m[0] * per + m[1], 0.0))
    rates = draw(st.lists(near | st.floats(0.0, 1e5, allow_nan=False), min_size=1, max_size=60))
    return scaler, rates


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(policy_and_rates(), st.booleans())
def test_drawn_policies_give_the_same_goals(drawn: tuple[Autoscaler, list[float]], warm: bool) -> None:
    scaler, rates = drawn
    core = _core.autoscale(autoscaler_policy(scaler), np.array(rates, dtype=np.float64), warm)
    assert core.dtype == np.int64
    assert core.tolist() == python_goals(scaler, rates, warm)


@pytest.mark.parametrize(("name", "until"), [("openai-aws-2025", datetime(2026, 1, 15)),
                                             ("serving-split", None)])
def test_built_in_services_goals_are_the_python_engines(name: str, until: datetime | None) -> None:
    """The Python engine's recorded target at every decision of every service (the default
    scenario cut to its services' first two weeks: training, serving and failures) is the core's goal."""
    scenario = api.load(name)
    simulation = build(scenario, until=until)
    assert simulation.serving is not None
    goals = [core_goals(service) for service in simulation.serving.services]
    record = simulation.run()
    assert len(record.services) == len(goals) > 0
    for service, core in zip(record.services, goals, strict=True):
        n = len(service.target_replicas)
        assert n > 0
        assert core[:n].tolist() == service.target_replicas.tolist(), service.spec.name
    assert max(len(set(service.target_replicas.tolist())) for service in record.services) > 10  # it scales


@pytest.mark.parametrize(("name", "until", "quota"), [("openai-aws-2025", datetime(2026, 1, 8), False),
                                                      ("serving-split", None, False),
                                                      ("serving-split", None, True)])
def test_replicas_preempt_the_jobs_the_python_engine_preempts(
        name: str, until: datetime | None, quota: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every victim search of the Python engine's run, repeated by the core on the scheduler
    as it stands: the same jobs in the same order, or no room either way (about 10,000
    searches in the default scenario's first week of services; with `sharing: quota`, only
    the jobs the `inference` queue's Kueue rules let it preempt)."""
    scenario = api.load(name)
    if quota:
        sharing = SharingSpec(mode=SharingMode.quota, queue="inference")
        scenario = scenario.model_copy(update={"services": [
            service.model_copy(update={"sharing": sharing}) for service in scenario.services]})
    searches: list[list[int] | None] = []
    python_search = preemption.gang_victims

    def both(scheduler: SchedulerView, pool: int, gpus: int, group: int,
             may_preempt: Callable[[int], bool] | None = None) -> list[int] | None:
        core = core_gang_victims(scheduler, pool, gpus, group, may_preempt)
        python = python_search(scheduler, pool, gpus, group, may_preempt)
        assert core == python, (pool, gpus, group)
        searches.append(python)
        return python

    monkeypatch.setattr(preemption, "gang_victims", both)
    record = build(scenario, until=until).run()
    assert sum(service.jobs_preempted for service in record.services) > 0
    assert any(searches)  # some replicas found their room by preempting
