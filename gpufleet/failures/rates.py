"""Interruption maths for one job: its interruption rate, the Young/Daly checkpoint
interval, and the expected effective training time ratio (ETTR).

A job of g GPUs in groups that fill racks touches g GPUs, ceil(g / GPUs per node) nodes,
ceil(g / GPUs per rack) racks and ceil(racks / racks per block) blocks; its interruption
rate is the sum over processes of (rate per unit) x (units it touches).

Young (1974) / Daly (2006): with checkpoint cost C and mean time between interruptions
M, the interval that maximises useful work is about tau = sqrt(2 C M); the first-order
fraction of time that does useful work is then about
1 - C / tau - (tau / 2 + R) / M, with R the restart overhead (calibration.md 4d). That
approximation is kept for comparison only: advice and the scheduler's plans use the exact
renewal formula of `gpufleet.failures.ettr`, which the simulator's semantics imply.
"""

from __future__ import annotations

import math

from gpufleet.fleet.layout import PoolLayout
from gpufleet.spec.failures import Component, FailureProcessSpec


def units_touched(gpus: int, pool: PoolLayout) -> dict[Component, int]:
    """How many units of each component a gang of `gpus` GPUs spans (packed placement)."""
    racks = math.ceil(gpus / pool.rack_gpus)
    return {
        Component.gpu: gpus,
        Component.node: math.ceil(gpus / pool.gpus_per_node),
        Component.rack: racks,
        Component.block: math.ceil(racks / pool.racks_per_block),
    }


def interruptions_per_hour(gpus: int, pool: PoolLayout, processes: list[FailureProcessSpec]) -> float:
    """Expected interruptions per hour of a running gang of `gpus` GPUs on `pool`."""
    touched = units_touched(gpus, pool)
    return sum(touched[process.component] / process.mean_hours for process in processes)


MIN_WRITE_H = 1.0 / 3600.0
"""Write cost used for Young/Daly when the scenario says 0 (a zero cost gives a zero interval)."""


def young_daly_interval_h(write_h: float, mtbi_h: float) -> float:
    """sqrt(2 C M): the checkpoint interval that maximises useful work (first order);
    C is at least MIN_WRITE_H."""
    return math.sqrt(2.0 * max(write_h, MIN_WRITE_H) * mtbi_h)


def first_order_ettr(interval_h: float, write_h: float, restart_h: float, mtbi_h: float) -> float:
    """Young/Daly's first-order share of wall time doing useful work, between 0 and 1
    (an approximation of `gpufleet.failures.ettr.ettr`, for comparison)."""
    if math.isinf(mtbi_h):
        return 1.0 / (1.0 + write_h / interval_h)
    waste = write_h / interval_h + (interval_h / 2.0 + restart_h) / mtbi_h
    return max(0.0, 1.0 - waste)
