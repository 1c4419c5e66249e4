"""When each delivery's racks take work: planned date, drawn slip, burn-in.

A delivery with delivery risk is handed over `slip` days after its planned date and
takes work `burn_in_days` after that. Each delivery draws its slip from its own named
random stream (`deliveries/<pool>/<planned date>/<n>`, or `deliveries/<pool>/expansion/
<option>`), so the draws are reproducible and independent of each other and of every
other draw of the run: adding a workload, a failure process or another delivery changes
no slip.
"""

from __future__ import annotations

import math
from datetime import datetime

from gpufleet.fleet.layout import Delivery
from gpufleet.rng import stream
from gpufleet.spec.fleet import DeliveryRiskSpec, PoolSpec, SlipSpec

DAY_S = 86400.0


def slip_days(slip: SlipSpec, seed: int, name: str) -> float:
    """One slip in days, drawn from the stream `name` under `seed`."""
    if slip.dist == "fixed":
        return float(slip.days)  # type: ignore[arg-type]
    rng = stream(seed, name)
    if slip.dist == "lognormal":
        return float(rng.lognormal(math.log(slip.median_days), slip.sigma))  # type: ignore[arg-type]
    return float(rng.triangular(slip.min_days, slip.mode_days, slip.max_days))  # type: ignore[arg-type]


def pool_deliveries(pool: PoolSpec, index: int, start: datetime, planned: list[tuple[datetime, int, str]],
                    overrides: list[tuple[SlipSpec | None, float | None]], slip_seed: int | None) -> list[Delivery]:
    """The deliveries of one pool, in the order its racks are numbered (by ready time).

    Args:
        pool: the pool spec (its `delivery_risk` applies to every delivery).
        index: the pool's index in the fleet.
        start: the scenario start (simulated second 0).
        planned: (planned date, racks, stream key) of each delivery, in spec order.
        overrides: (slip, burn-in days) of each delivery, None where the pool's apply.
        slip_seed: the run's seed; None for the plan (no slip drawn; burn-in kept).
    """
    risk = pool.delivery_risk or DeliveryRiskSpec()
    deliveries = []
    for (when, racks, key), (own_slip, own_burn_in) in zip(planned, overrides, strict=True):
        planned_s = (when - start).total_seconds()
        slip = own_slip if own_slip is not None else risk.slip
        burn_in = own_burn_in if own_burn_in is not None else risk.burn_in_days
        slip_s = slip_days(slip, slip_seed, f"deliveries/{pool.name}/{key}") * DAY_S \
            if slip is not None and slip_seed is not None else 0.0
        handover = planned_s + slip_s
        deliveries.append(Delivery(index, racks, planned_s, handover, handover + burn_in * DAY_S, key))
    deliveries.sort(key=lambda delivery: delivery.ready_s)  # stable: spec order at a tie
    return deliveries
