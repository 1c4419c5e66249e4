"""Invariants of delivery risk on random fleets (hypothesis): a delivery's racks are handed
over exactly at its planned date plus the slip its own stream draws, take work exactly a
burn-in later, and no job is ever placed on a rack before then."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.fleet.deliveries import slip_days
from gpufleet.spec.fleet import SlipSpec
from gpufleet.testing import scenario
from tests.conftest import run_recording

START = datetime(2026, 1, 1)
DAY = 86400.0

SLIPS = st.one_of(
    st.builds(lambda m, s: {"dist": "lognormal", "median_days": m, "sigma": s},
              st.floats(0.5, 10), st.floats(0.0, 1.2)),
    st.builds(lambda a, b, c: dict(zip(("min_days", "mode_days", "max_days"), sorted((a, b, c + 0.5)),
                                       strict=True), dist="triangular"),
              st.floats(0, 5), st.floats(0, 5), st.floats(0, 8)),
    st.builds(lambda d: {"dist": "fixed", "days": d}, st.floats(0, 6)),
)


@st.composite
def risky_runs(draw: st.DrawFn):  # noqa: ANN201
    pools = []
    for index in range(draw(st.integers(1, 2))):
        offsets = sorted(draw(st.lists(st.integers(0, 96), min_size=1, max_size=3)))
        deliveries = []
        for hours in offsets:
            delivery = {"date": (START + timedelta(hours=hours)).isoformat(), "nodes": draw(st.integers(1, 3))}
            if draw(st.booleans()):
                delivery["slip"] = draw(SLIPS)
            if draw(st.booleans()):
                delivery["burn_in_days"] = draw(st.floats(0, 3))
            deliveries.append(delivery)
        pools.append({"name": f"p{index}", "gpu": ["H100", "B200"][index], "gpus_per_node": 4,
                      "nodes_per_rack": draw(st.integers(1, 2)), "deliveries": deliveries,
                      "delivery_risk": {"slip": draw(st.one_of(st.none(), SLIPS)),
                                        "burn_in_days": draw(st.floats(0, 2)),
                                        "burn_in_billed": draw(st.booleans())}})
    jobs = [{"name": f"j{index}", "gpus": 4 * draw(st.integers(1, 2)), "group_size": 4,
             "duration_hours": draw(st.floats(1, 30)), "submit": (START + timedelta(hours=draw(
                 st.integers(0, 120)))).isoformat()} for index in range(draw(st.integers(1, 10)))]
    return {"pools": pools}, jobs, draw(st.integers(0, 1000))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(risky_runs())
def test_capacity_arrives_after_planned_date_plus_slip_and_burn_in(problem) -> None:  # noqa: ANN001
    fleet, jobs, seed = problem
    try:
        spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-25", seed=seed)
    except InputError:
        assume(False)
        return
    result, log, simulation = run_recording(spec)
    layout = simulation.layout
    for pool, pool_spec in zip(layout.pools, spec.fleet.pools, strict=True):
        records = [d for d in layout.deliveries if d.pool == pool.index]
        for record in records:
            date, nth = record.label.rsplit("/", 1)  # the nth delivery planned for that instant
            change = [c for c in pool_spec.deliveries if c.date.isoformat() == date][int(nth)]
            risk = pool_spec.delivery_risk
            slip = change.slip if change.slip is not None else risk.slip
            burn_in = change.burn_in_days if change.burn_in_days is not None else risk.burn_in_days
            drawn = 0.0 if slip is None else slip_days(SlipSpec.model_validate(slip.model_dump()), seed,
                                                       f"deliveries/{pool.name}/{record.label}")
            assert record.planned_s == (change.date - START).total_seconds()
            assert record.handover_s == record.planned_s + drawn * DAY
            assert record.ready_s == record.handover_s + burn_in * DAY >= record.planned_s
    # Racks take work at their delivery's ready time, never before.
    ready = sorted((d.ready_s, d.pool) for d in layout.deliveries if d.ready_s <= simulation.until_s)
    delivered = sorted((t, pool) for t, pool, gpus in simulation.state.capacity_log if gpus > 0)
    assert delivered == ready
    for start, _, allocation in log:
        assert np.all(layout.rack_delivered_s[allocation.racks] <= start)
        racks = set(allocation.racks.tolist())
        lo = 0
        for d in sorted(layout.deliveries, key=lambda d: (d.pool, d.ready_s)):  # racks numbered by ready time
            pool_lo = layout.pools[d.pool].rack_lo
            lo = max(lo, pool_lo)
            span = set(range(lo, lo + d.racks))
            if span & racks:
                assert start >= d.ready_s  # never on a rack in burn-in (or not yet handed over)
            lo += d.racks
    # Billed GPU-hours: delivered capacity, plus burn-in where billed.
    series = result.timeseries
    if "burn_in_gpus" in series.column_names:
        assert np.all(series["allocated_gpus"].to_numpy() <= series["installed_gpus"].to_numpy() + 1e-9)
