"""Fit failure processes to a recorded fault log (e.g. the StepFun GPU-server trace).

One node-level process per fault level (hardware, software, other): its rate is the
faults of that level per server-hour *up* (time in repair is not exposure, since a
server in repair cannot fail again); its causes are the fault classes, weighted by
count; its repair time is the quantile table of that level's repair times (falling back to all
repair times when a level has too few).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.spec.failures import Component, FailureProcessSpec
from gpufleet.spec.workload import DurationSpec
from gpufleet.traces.faults import FaultTrace

MIN_REPAIRS = 10
"""Fewer repair times than this in a level: use the repair times of all levels."""


QUANTILES = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)


def _repair(days: np.ndarray) -> DurationSpec:
    """The repair-time distribution as its quantile table: the observed times are far from
    lognormal (short fixes of minutes, a long tail cut by the end of the observation)."""
    hours = days[np.isfinite(days) & (days >= 0)] * 24.0
    table = np.quantile(hours, QUANTILES)
    return DurationSpec(dist="quantiles", quantiles_hours={p: round(float(h), 4) for p, h in zip(QUANTILES, table,
                                                                                                  strict=True)})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "other"


def fit_faults(trace: FaultTrace, source: str) -> tuple[list[FailureProcessSpec], dict[str, Any]]:
    """Processes fitted to `trace`, and the figures they were fitted from.

    Raises:
        InputError: if the number of servers is unknown or there are no repair times.
    """
    if not trace.servers:
        raise InputError([Problem("the fault log does not say how many servers it covers: give --servers",
                                  file=source)])
    days = trace.observed_days if trace.observed_days is not None else trace.last_event_days
    repaired = np.isfinite(trace.repair_days) & (trace.repair_days > 0)
    if repaired.sum() < 2:
        raise InputError([Problem("fewer than two repaired faults: cannot fit repair times", file=source)])
    down_days = np.where(np.isfinite(trace.repair_days), trace.repair_days,
                         days - trace.start_days).clip(0).sum()
    up_hours = (trace.servers * days - down_days) * 24.0
    overall = _repair(trace.repair_days)
    levels = np.array(trace.level, dtype=object)
    classes = np.array(trace.fault_class, dtype=object)
    processes = []
    figures: dict[str, Any] = {"servers": trace.servers, "observed_days": days, "faults": len(trace),
                               "server_hours_up": up_hours, "levels": {}}
    for level in sorted(set(trace.level), key=lambda name: -trace.level.count(name)):
        mine = levels == level
        count = int(mine.sum())
        names, counts = np.unique(classes[mine].astype(str), return_counts=True)
        enough = int((repaired & mine).sum()) >= MIN_REPAIRS
        repair = _repair(trace.repair_days[mine]) if enough else overall
        processes.append(FailureProcessSpec(
            name=_slug(level), component=Component.node, rate_per_unit_hour=count / up_hours,
            causes={str(name): float(n) for name, n in zip(names, counts, strict=True)}, repair=repair,
            source=f"fitted to {Path(source).name}: {count} '{level}' faults over {trace.servers} servers x "
                   f"{days:.0f} days; repair: quantiles of {'this level' if enough else 'all levels'}"))
        figures["levels"][level] = {"faults": count, "rate_per_server_day": count / up_hours * 24.0,
                                    "repairs_fitted": int((repaired & mine).sum()) if enough else int(repaired.sum())}
    return processes, figures


def failures_yaml(processes: list[FailureProcessSpec]) -> dict[str, Any]:
    """The `failures:` section of a scenario for these processes."""
    return {"failures": {"processes": [process.model_dump(mode="json", exclude_none=True,
                                                           exclude={"pools"}) for process in processes]}}
