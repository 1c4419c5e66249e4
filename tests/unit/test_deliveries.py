"""Delivery risk by hand: slips drawn per delivery from named streams, burn-in before racks take
work (billed or not), and `when_capacity` jobs that follow the plan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gpufleet import api
from gpufleet.errors import InputError
from gpufleet.rng import stream
from gpufleet.testing import scenario

DAY = 86400.0


def fleet(risk: dict | None = None, first: dict | None = None, second_pool: bool = False) -> dict:
    """One 8-GPU H100 server on time on 1 January; two more planned on 5 January under `risk`."""
    pool = {"name": "p", "gpu": "H100",
            "deliveries": [{"date": "2026-01-01", "nodes": 1, **(first or {"slip": {"dist": "fixed", "days": 0},
                                                                           "burn_in_days": 0})},
                           {"date": "2026-01-05", "nodes": 2}]}
    if risk is not None:
        pool["delivery_risk"] = risk
    pools = [pool]
    if second_pool:
        pools.append({"name": "q", "gpu": "B200", "delivery_risk": risk,
                      "deliveries": [{"date": "2026-01-02", "nodes": 1}]})
    return {"pools": pools}


JOB = {"jobs": {"name": "big", "items": [{"name": "big", "gpus": 16, "group_size": 8, "duration_hours": 24}]}}
RISK = {"slip": {"dist": "fixed", "days": 10}, "burn_in_days": 2, "source": "test"}


def test_slip_and_burn_in_by_hand() -> None:
    # The two servers planned for day 4 are handed over on day 14 and take work on day 16:
    # the 16-GPU job (submitted at the start) starts then. From day 14 they are installed
    # and billed (24 GPUs) but in burn-in until day 16.
    result = api.run(scenario(fleet(RISK), [JOB], end="2026-01-25"))
    job = result.jobs.to_pylist()[0]
    assert job["start_s"] == 16 * DAY
    series = result.timeseries
    t = series["t_s"].to_numpy() / DAY
    installed, burn_in = series["installed_gpus"].to_numpy(), series["burn_in_gpus"].to_numpy()
    assert np.all(installed[t < 14] == 8) and np.all(installed[t >= 14] == 24)
    assert np.all(burn_in[(t >= 14) & (t < 16)] == 16) and np.all(burn_in[(t < 14) | (t >= 16)] == 0)
    assert np.all(series["allocated_gpus"].to_numpy()[t < 16] == 0)
    capacity = result.summary["capacity"]
    assert capacity["installed_gpu_hours"] == pytest.approx(8 * 24 * 24 + 16 * 24 * 10)
    rows = {row["key"]: row for row in capacity["deliveries"]}
    late = rows["2026-01-05T00:00:00/0"]
    assert (late["planned"], late["handover"], late["ready"]) == (
        "2026-01-05T00:00:00", "2026-01-15T00:00:00", "2026-01-17T00:00:00")
    assert (late["slip_days"], late["burn_in_days"], late["gpus"]) == (10.0, 2.0, 16)


def test_burn_in_not_billed() -> None:
    result = api.run(scenario(fleet({**RISK, "burn_in_billed": False}), [JOB], end="2026-01-25"))
    series = result.timeseries
    t = series["t_s"].to_numpy() / DAY
    assert np.all(series["installed_gpus"].to_numpy()[t < 16] == 8)
    assert np.all(series["burn_in_gpus"].to_numpy()[(t >= 14) & (t < 16)] == 16)


def test_when_capacity_follows_the_plan_and_waits_for_the_slip() -> None:
    # Planned: the job fits once the servers clear burn-in on day 6 (day 4 + 2): it is
    # submitted then, and waits the 10-day slip.
    job = {"jobs": {"name": "big", "items": [{"name": "big", "gpus": 16, "group_size": 8, "duration_hours": 24,
                                               "submit": "when_capacity"}]}}
    row = api.run(scenario(fleet(RISK), [job], end="2026-01-25")).jobs.to_pylist()[0]
    assert row["submit_s"] == 6 * DAY and row["start_s"] == 16 * DAY and row["wait_s"] == 10 * DAY


def test_each_delivery_draws_from_its_own_stream() -> None:
    risk = {"slip": {"dist": "lognormal", "median_days": 14, "sigma": 0.8}}
    first = {"slip": {"dist": "triangular", "min_days": 3, "mode_days": 5, "max_days": 30}}
    slips = {}
    for seed in (1, 2):
        for second_pool in (False, True):
            spec = scenario(fleet(risk, first, second_pool), [JOB], end="2026-06-01", seed=seed)
            rows = api.run(spec).summary["capacity"]["deliveries"]
            slips[(seed, second_pool)] = {(row["pool"], row["key"]): row["slip_days"] for row in rows}
    for seed in (1, 2):
        drawn = slips[(seed, False)]
        # The draws of `deliveries/<pool>/<planned date>/<n>` under the seed, by hand.
        lognormal = stream(seed, "deliveries/p/2026-01-05T00:00:00/0").lognormal(math.log(14), 0.8)
        triangular = stream(seed, "deliveries/p/2026-01-01T00:00:00/0").triangular(3, 5, 30)
        assert drawn[("p", "2026-01-05T00:00:00/0")] == pytest.approx(lognormal, rel=1e-12)
        assert drawn[("p", "2026-01-01T00:00:00/0")] == pytest.approx(triangular, rel=1e-12)
        assert 3 <= triangular <= 30
        # Another pool's delivery changes none of these draws.
        assert {key: value for key, value in slips[(seed, True)].items() if key[0] == "p"} == drawn
    assert slips[(1, False)] != slips[(2, False)]


def test_slip_on_a_retirement_is_refused() -> None:
    pools = {"pools": [{"name": "p", "gpu": "H100", "deliveries": [{"date": "2026-01-01", "nodes": 2}],
                        "retirements": [{"date": "2026-01-10", "nodes": 1, "slip": {"dist": "fixed", "days": 1}}]}]}
    with pytest.raises(InputError, match="slip applies to deliveries only"):
        scenario(pools, [])
    with pytest.raises(InputError, match="triangular needs"):
        scenario(fleet({"slip": {"dist": "triangular", "min_days": 5, "mode_days": 1, "max_days": 9}}), [])
