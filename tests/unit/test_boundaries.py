"""The boundaries of ARCHITECTURE.md: the scheduler's protocol, the quota book's trial
removal, and the event vocabulary as docs/model.md lists it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gpufleet.sched.core import SchedulerCore, SchedulerView
from gpufleet.sched.quota import QuotaBook
from gpufleet.sim.build import build
from gpufleet.sim.events import PHASE, Event, Phase
from gpufleet.spec.scheduler import CohortSpec, QueueSpec
from gpufleet.testing import jobs_workload, scenario, small_fleet

MODEL = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def members(protocol: type) -> set[str]:
    """The attributes and methods a protocol asks for (its own and its bases')."""
    names: set[str] = set()
    for cls in protocol.__mro__:
        if cls in (object,) or cls.__name__ in ("Protocol", "Generic"):
            continue
        names |= set(getattr(cls, "__annotations__", {}))
        names |= {name for name, value in vars(cls).items() if callable(value) and not name.startswith("_")}
    return names


def test_the_scheduler_has_every_member_of_the_boundary() -> None:
    spec = scenario(small_fleet(), [jobs_workload([{"name": "a", "gpus": 4, "duration_hours": 1}])])
    scheduler = build(spec).scheduler
    wanted = members(SchedulerCore)
    assert members(SchedulerView) < wanted
    assert {"submit", "schedule", "end", "preempt", "interrupt", "restart_in_place", "queue_head"} <= wanted
    assert [name for name in sorted(wanted) if not hasattr(scheduler, name)] == []


def book() -> QuotaBook:
    """Two queues sharing a cohort: a (nominal 8, lends all but 2), b (nominal 4, may borrow 8)."""
    queues = [QueueSpec(name="a", tenants=["x"], cohort="c", nominal={"H100": 8}, lending_limit={"H100": 6}),
              QueueSpec(name="b", tenants=["y"], cohort="c", nominal={"H100": 4}, borrowing_limit={"H100": 8})]
    return QuotaBook(queues, [CohortSpec(name="c")], ["H100"])


def test_without_takes_usage_out_for_the_trial_and_puts_it_back() -> None:
    quotas = book()
    quotas.add(0, 0, 8)
    quotas.add(1, 0, 4)
    # Hand-worked: the pool lends 6 (a) + 4 (b) = 10; a uses 6 above its guaranteed 2, b 4.
    assert quotas.pool_usage[0][0] == 10 and not quotas.fits(1, 0, 4)
    before = ([row[:] for row in quotas.usage], [row[:] for row in quotas.pool_usage])
    with quotas.without([(0, 0, 8)]) as trial:
        assert trial is quotas and quotas.usage[0][0] == 0 and quotas.pool_usage[0][0] == 4
        assert quotas.fits(1, 0, 4)  # b may borrow what a would give back
    assert ([row[:] for row in quotas.usage], [row[:] for row in quotas.pool_usage]) == before
    with pytest.raises(RuntimeError), quotas.without([(1, 0, 4), (0, 0, 3)]):
        raise RuntimeError("a failed trial")
    assert ([row[:] for row in quotas.usage], [row[:] for row in quotas.pool_usage]) == before


def test_every_event_has_a_phase_and_a_row_in_the_model() -> None:
    assert set(PHASE) == set(Event)
    rows = re.findall(r"^\| (\d) [a-z]+ \| `([A-Z_]+)` \|", MODEL.read_text(encoding="utf-8"), flags=re.M)
    assert {Event[name]: Phase(int(phase)) for phase, name in rows} == PHASE
    documented = [Event[name] for _, name in rows]
    assert documented == sorted(Event, key=lambda event: (PHASE[event], event))  # the table in order
    # The order the simulation relies on: capacity, hardware, arrivals, decisions, round, pass, sample.
    assert list(Phase) == sorted(Phase) and Phase.CAPACITY < Phase.HARDWARE < Phase.ARRIVAL < Phase.PASS
