"""Replay a scenario with trace workloads and set the simulated waits beside the trace's real ones.

A job's real wait is its start minus its submit in the trace (openb: scheduled_time -
creation_time); its simulated wait is the same difference in the run. Jobs are matched
by name. Jobs still queued at the horizon have no simulated wait and are counted apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpufleet.results.run_result import RunResult
from gpufleet.spec.scenario import Scenario
from gpufleet.traces import ks
from gpufleet.traces.stats import distribution, quantiles
from gpufleet.workload.trace import trace_jobs

PERCENTILES = [0, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]


def with_time_scale(scenario: Scenario, time_scale: float) -> Scenario:
    """The scenario with every trace workload's time_scale replaced."""
    workloads = [entry.model_copy(update={"trace": entry.trace.model_copy(update={"time_scale": time_scale})})
                 if entry.trace is not None else entry for entry in scenario.workloads]
    return scenario.model_copy(update={"workloads": workloads})


def describe_scheduler(scenario: Scenario) -> str:
    """'fifo, backfill easy' (whatever shape the scheduler spec's fields take)."""
    spec = scenario.scheduler
    policy = getattr(spec.policy, "name", spec.policy)
    backfill = getattr(spec.backfill, "value", spec.backfill)
    return f"{policy}, backfill {backfill}"


def compare_waits(scenario: Scenario, result: RunResult) -> dict[str, Any]:
    """Per trace workload: simulated and real wait quantiles, KS distance, side-by-side percentiles."""
    table = result.jobs
    workload = np.array(table["workload"].to_pylist(), dtype=object)
    names = np.array(table["name"].to_pylist(), dtype=object)
    waits = table["wait_s"].to_numpy(zero_copy_only=False)
    out: dict[str, Any] = {"scenario": scenario.name, "seed": result.seed,
                           "scheduler": describe_scheduler(scenario),
                           "workloads": []}
    for entry in scenario.workloads:
        if entry.trace is None:
            continue
        spec = entry.trace
        replayed = trace_jobs(spec, scenario)
        mine = workload == spec.name
        simulated_by_name = dict(zip(names[mine].tolist(), waits[mine].tolist(), strict=True))
        simulated = np.array([simulated_by_name.get(name, np.nan) for name in replayed.names], dtype=np.float64)
        real = replayed.real_wait_s
        both = np.isfinite(real) & np.isfinite(simulated)
        sim_q, real_q = simulated[both], real[both]
        out["workloads"].append({
            "name": spec.name,
            "jobs": int(both.sum()),
            "not_started_in_replay": int((np.isfinite(real) & ~np.isfinite(simulated)).sum()),
            "no_real_wait": int((~np.isfinite(real)).sum()),
            "time_scale": spec.time_scale,
            "simulated": quantiles(sim_q),
            "real": quantiles(real_q),
            "simulated_share_waiting": float((sim_q > 0).mean()) if len(sim_q) else 0.0,
            "real_share_waiting": float((real_q > 0).mean()) if len(real_q) else 0.0,
            "ks": ks.ks_two_sample(sim_q, real_q),
            "percentiles": {"p": PERCENTILES,
                            "simulated": [float(v) for v in np.percentile(sim_q, PERCENTILES)] if len(sim_q) else [],
                            "real": [float(v) for v in np.percentile(real_q, PERCENTILES)] if len(real_q) else []},
            "distributions": {"simulated": distribution(sim_q), "real": distribution(real_q)},
            "read": replayed.report.to_dict(),
            "notes": replayed.notes,
        })
    return out
