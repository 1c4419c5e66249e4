"""A run's failures as the native core reads them (`gpufleet.sim.native`), and the draws it
asks for while it runs.

The failure processes draw during the run, and what they draw depends on the run: the rate
and the unit a candidate picks depend on the racks installed at the last re-arm (draining
racks retire when their last job ends), a strike that finds its unit down draws no cause
or repair, and a repaired Weibull unit draws a new clock. So the draws cannot be made
ahead: the core calls back into `FailureDraws` (with the GIL, a few calls per failure) and
each call draws from the process's own numpy streams exactly what the Python engine draws
at that point (`gpufleet.failures.process.FailureProcess`). Everything else (which units
are installed, which unit a draw picks, whether it is up, the Weibull clocks' order) the
core does itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpufleet.failures.process import FailureProcess
from gpufleet.rng import pick
from gpufleet.sim.outages import FailureRecord
from gpufleet.sim.simulation import Simulation
from gpufleet.spec.failures import Component, FailureDist

COMPONENTS = [Component.gpu, Component.node, Component.rack, Component.block]
"""Components by the core's codes."""


class FailureDraws:
    """What the core asks of the failure processes' random streams, one call at a time."""

    def __init__(self, processes: list[FailureProcess]) -> None:
        self.processes = processes

    def gap(self, index: int, rate: float) -> float:
        """Seconds to the next candidate failure at `rate` candidates a second (`next_candidate`)."""
        return float(self.processes[index].rng.exponential(1.0 / rate))

    def unit(self, index: int, units: int) -> int:
        """The unit a candidate strikes, uniform over the installed ones (`strike`)."""
        return int(self.processes[index].rng.integers(units))

    def clocks(self, index: int, now: float, count: int) -> list[float]:
        """Failure times of `count` Weibull clocks started at `now` (`install`)."""
        process = self.processes[index]
        times: list[float] = (now + process.weibull_scale_s * process.rng.weibull(process.spec.shape, size=count)
                              ).tolist()
        return times

    def cause_and_repair(self, index: int) -> tuple[int, float]:
        """A strike's cause (an index into the process's causes) and repair seconds."""
        process = self.processes[index]
        return pick(process.cause_rng, process.cause_cdf), process.repair_s()


def failure_reasons(simulation: Simulation) -> list[str]:
    """The run's failure reasons (interrupted by each cause, failed past the restarts), coded
    after the core's fixed and quota reasons."""
    outages = simulation.outages
    if outages is None:
        return []
    found = [f"interrupted: {cause}" for process in outages.processes for cause in process.causes]
    found += [f"interrupted: {cause}" for _, _, _, cause in outages.injected]
    max_restarts = getattr(simulation.scheduler, "max_restarts", None)
    if max_restarts is not None:
        found.append(f"failed: more than {max_restarts} interruptions")
    return list(dict.fromkeys(found))


def failure_spec(simulation: Simulation, reason_base: int) -> dict[str, Any]:
    """The run's failures as core_spec entries (none without failures); their reasons are
    coded from `reason_base` on."""
    outages = simulation.outages
    if outages is None:
        return {}
    layout = simulation.layout
    code = {reason: reason_base + index for index, reason in enumerate(failure_reasons(simulation))}
    max_restarts = getattr(simulation.scheduler, "max_restarts", None)
    return {
        "rack_node_lo": np.ascontiguousarray(layout.rack_node_lo, dtype=np.int64),
        "node_gpus": np.ascontiguousarray(layout.node_gpus, dtype=np.int64),
        "pool_nodes": [(pool.spare_nodes, pool.gpus_per_node, pool.nodes_per_rack) for pool in layout.pools],
        "failure_processes": [
            (process.spec.component.value, process.spec.distribution is FailureDist.weibull, list(process.pools),
             float(process.rate_per_s), [code[f"interrupted: {cause}"] for cause in process.causes])
            for process in outages.processes],
        "injected": [(float(when), strike.component.value, strike.pool, list(strike.racks), strike.node,
                      strike.gpu_index, float(repair_s), code[f"interrupted: {cause}"])
                     for when, strike, repair_s, cause in outages.injected],
        "failure_draws": FailureDraws(outages.processes),
        "max_restarts": max_restarts,
        "failed_reason": code.get(f"failed: more than {max_restarts} interruptions", 0),
    }


def failure_records(simulation: Simulation, columns: dict[str, Any]) -> list[FailureRecord]:
    """The failures the core logged, as the Python engine logs them."""
    outages = simulation.outages
    if outages is None:
        return []
    processes, injected = outages.processes, outages.injected
    counts = columns["failure_n_nodes"].tolist()
    cuts = np.concatenate(([0], np.cumsum(columns["failure_n_nodes"]))).tolist()
    nodes, gpus = columns["failure_nodes"].tolist(), columns["failure_node_gpus"].tolist()
    records = []
    rows = zip(columns["failure_time_s"].tolist(), columns["failure_process"].tolist(),
               columns["failure_cause"].tolist(), columns["failure_component"].tolist(),
               columns["failure_pool"].tolist(), columns["failure_rack"].tolist(), columns["failure_node"].tolist(),
               columns["failure_gpus_down"].tolist(), columns["failure_jobs_hit"].tolist(),
               columns["failure_spare_used"].tolist(), columns["failure_repaired_s"].tolist(), strict=True)
    for index, (time_s, process, cause, component, pool, rack, node, down, hit, spare, repaired) in enumerate(rows):
        if process >= 0:
            name, why = processes[process].spec.name, processes[process].causes[cause]
        else:
            name, why = "injected", injected[cause][3]
        lo = cuts[index]
        record = FailureRecord(time_s, name, why, COMPONENTS[component].value, pool, rack, node, down, hit, spare,
                               list(zip(nodes[lo:lo + counts[index]], gpus[lo:lo + counts[index]], strict=True)))
        if repaired == repaired:  # not NaN: keep the default (the same NaN object) for those never repaired
            record.repaired_s = repaired
        records.append(record)
    return records


def failed_log(columns: dict[str, Any]) -> list[tuple[float, int, int]]:
    """(time_s, pool, GPUs failed (+) or repaired (-)) as the fleet state logs them."""
    if "failed_time_s" not in columns:
        return []
    return list(zip(columns["failed_time_s"].tolist(), columns["failed_pool"].tolist(),
                    columns["failed_gpus"].tolist(), strict=True))
