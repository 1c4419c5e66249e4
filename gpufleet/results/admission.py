"""`gpufleet admit`'s answers from simulations: the decision now, and when the job would start.

The decision is read from a simulation of the snapshot run a second past the moment
asked about: where the job went (pool, racks, blocks), or, per pool it may use, every
reason it cannot go there now, as the scheduler checks them (sched.quota, then free
GPUs, whole NVLink groups and the placement search), plus the scheduler's own reason
(which also covers the backfill reservation and StrictFIFO order). When it would start
comes from replications run to the horizon (their run-time draws differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from gpufleet.interop.pools import PoolNames
from gpufleet.sched import reasons
from gpufleet.sim.simulation import Simulation

QUANTILES = (0.1, 0.5, 0.9)


@dataclass
class PoolCheck:
    """Whether the job fits one pool now, and if not, why (kind: quota, borrowing, room, fragmentation,
    topology, or fits)."""

    pool: str
    flavor: str
    kind: str
    detail: str


@dataclass
class Decision:
    """What the scheduler does with the job at the moment asked about."""

    admitted: bool
    pool: str | None = None
    racks: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    reason: str = ""
    checks: list[PoolCheck] = field(default_factory=list)
    running_not_placed: int = 0
    queued_started_at_once: int = 0
    blocked_by: str = ""


def decide(simulation: Simulation, job: int, names: list[PoolNames], running: list[int],
           queued: list[int], moment_s: float) -> Decision:
    """The decision for `job` after running `simulation` just past `moment_s` (snapshot seconds)."""
    scheduler, layout = simulation.scheduler, simulation.layout
    by_pool = {entry.pool: entry for entry in names}
    started = simulation.first_start_s
    decision = Decision(admitted=job in scheduler.allocations)
    decision.running_not_placed = sum(1 for k in running if math.isnan(started[k]) or started[k] > 0.0)
    decision.queued_started_at_once = sum(1 for k in queued if not math.isnan(started[k])
                                          and started[k] <= moment_s + 1e-3)
    if decision.admitted:
        allocation = scheduler.allocations[job]
        pool = layout.pools[allocation.pool]
        decision.pool = pool.name
        racks = [int(rack) - pool.rack_lo for rack in allocation.racks.tolist()]
        blocks = sorted({int(layout.rack_block[rack]) - pool.block_lo for rack in allocation.racks.tolist()})
        entry = by_pool.get(pool.name)
        decision.racks = [entry.rack_name(rack) if entry else f"rack {rack}" for rack in racks]
        decision.blocks = [entry.block_name(block) if entry else f"block {block}" for block in blocks]
        return decision
    decision.reason = scheduler.reason[job] or simulation.never_fits.get(job, "")
    queue = scheduler.queue_of[job]
    if scheduler.quotas.members(queue) == [queue]:
        decision.reason = _alone(decision.reason, {scheduler.quotas.names[queue]})
    decision.checks = _checks(simulation, job)
    if decision.reason == reasons.STRICT_ORDER:
        decision.blocked_by = _head(simulation, job)
    return decision


def _head(simulation: Simulation, job: int) -> str:
    """The first job of `job`'s queue (what a StrictFIFO queue waits for), and its reason."""
    scheduler = simulation.scheduler
    head = scheduler.queue_head(scheduler.queue_of[job])
    if head is None:
        return ""
    name = simulation.jobs.names[head].as_py()
    return f"{name} ({scheduler.job_gpus[head]} GPUs): {_kind(scheduler.reason[head]) or 'waiting'}"


def _checks(simulation: Simulation, job: int) -> list[PoolCheck]:
    scheduler, layout, state = simulation.scheduler, simulation.layout, simulation.state
    shape = scheduler.job_shape[job]
    gpus, group, within = scheduler.job_gpus[job], scheduler.shape_group[shape], scheduler.shape_within[shape]
    queue = scheduler.queue_of[job]
    quotas = scheduler.quotas
    out = []
    for p in scheduler.shape_pools[shape]:
        pool = layout.pools[p]
        flavor = scheduler.flavor_of_pool[p]
        if not quotas.unlimited and not quotas.fits(queue, flavor, gpus):
            why = quotas.why_not(queue, flavor, gpus)
            if quotas.members(queue) == [queue]:  # no cohort: its own nominal quota is what binds
                why = f"quota: {quotas.flavors[flavor]} nominal {quotas.nominal[queue][flavor]:g} of queue " \
                      f"{quotas.names[queue]} reached"
            kind = "quota" if "nominal" in why else "borrowing"
            used = quotas.usage[queue][flavor]
            out.append(PoolCheck(pool.name, pool.gpu.name, kind, f"{why} (queue uses {used:g}, the job needs {gpus})"))
            continue
        free = state.avail_gpus[p]
        if free < gpus:
            out.append(PoolCheck(pool.name, pool.gpu.name, "room", f"{free} GPUs free, the job needs {gpus}"))
            continue
        whole = state.groups_free(p, group)
        if whole * group < gpus:
            out.append(PoolCheck(pool.name, pool.gpu.name, "fragmentation",
                                 f"{free} GPUs free, but only {whole} whole groups of {group} in racks "
                                 f"({whole * group} usable; the rest are remnants of racks)"))
            continue
        placed = scheduler.placement.place(state, (p,), gpus, group, within)
        if placed is None:
            where = "no one block holds the gang" if within else "no set of racks holds its groups"
            out.append(PoolCheck(pool.name, pool.gpu.name, "topology", f"enough whole groups, but {where}"))
            continue
        out.append(PoolCheck(pool.name, pool.gpu.name, "fits", "quota and room are there now"))
    return out


@dataclass
class Forecast:
    """When the job starts across replications."""

    replications: int
    started: int
    start: dict[str, datetime | None]
    wait_h: dict[str, float | None]
    pools: dict[str, int]
    reasons: dict[str, int]
    horizon: datetime


def forecast(jobs_tables: list[pa.Table], name: str, snapshot_start: datetime, moment: datetime,
             horizon: datetime, alone: set[str] = frozenset()) -> Forecast:
    """When job `name` starts over the replications' job tables (its wait from its submit at
    `moment`); `alone`: queues without a cohort (their quota reasons name the nominal quota)."""
    waits, starts, pools, why = [], [], {}, {}
    for table in jobs_tables:
        names = table["name"].to_pylist()
        row = names.index(name)
        wait_s = table["wait_s"][row].as_py()
        if wait_s is not None and not math.isnan(wait_s):
            waits.append(wait_s)
            starts.append(table["start_s"][row].as_py())
            pool = table["pool"][row].as_py()
            pools[pool] = pools.get(pool, 0) + 1
        for entry in table["reasons"][row].as_py() or []:
            text = _alone(_kind(entry["reason"]), alone)
            why[text] = why.get(text, 0) + 1
    values = np.sort(np.array(waits, dtype=np.float64))
    begins = np.sort(np.array(starts, dtype=np.float64))
    start: dict[str, datetime | None] = {}
    wait: dict[str, float | None] = {}
    for q in QUANTILES:
        key = f"p{round(q * 100)}"
        # a quantile over all replications: those that never started count as later than any
        index = max(int(math.ceil(q * len(jobs_tables))) - 1, 0)
        value = float(values[index]) if index < len(values) else None
        # to the second: the snapshot's jobs are submitted microseconds apart
        start[key] = snapshot_start + timedelta(seconds=round(float(begins[index]))) if value is not None else None
        wait[key] = value / 3600.0 if value is not None else None
    return Forecast(len(jobs_tables), len(values), start, wait, pools, why, horizon)


def _alone(reason: str, alone: set[str]) -> str:
    """The scheduler words a queue without a cohort that reached its nominal quota as its 'cohort pool
    lent out' (its pool is its own nominal): say what binds."""
    for queue in alone:
        if reason.endswith(f"cohort pool of queue {queue} lent out"):
            flavor = reason[len("quota: "): -len(f" cohort pool of queue {queue} lent out")]
            return f"quota: {flavor} nominal quota of queue {queue} reached"
    return reason


def _kind(reason: str) -> str:
    """A reason as recorded, with the quota numbers kept (they name the flavor, queue and limit)."""
    return {reasons.INSUFFICIENT_GPUS: "room: not enough free GPUs",
            reasons.NO_TOPOLOGY_FIT: "fragmentation: free GPUs are not in racks that hold its groups",
            reasons.BEHIND_RESERVATION: "backfill: it would delay the first blocked job's reservation",
            reasons.STRICT_ORDER: "order: a job ahead of it is blocked (StrictFIFO or no backfill)",
            reasons.PREEMPTED: "preempted"}.get(reason, reason)


def explain(reason: str) -> str:
    return _kind(reason)


@dataclass
class Admission:
    """The answer of `gpufleet admit`: the snapshot's notes, the decision now, the forecast."""

    job: str
    at: datetime
    notes: list[str]
    decision: Decision
    forecast: Forecast | None

    def as_dict(self) -> dict[str, Any]:
        return {"job": self.job, "at": self.at.isoformat(sep=" "), "notes": self.notes,
                **as_dict(self.decision, self.forecast)}


def as_dict(decision: Decision, outlook: Forecast | None) -> dict[str, Any]:
    """JSON-ready answer."""
    out: dict[str, Any] = {
        "admitted_now": decision.admitted, "pool": decision.pool, "racks": decision.racks, "blocks": decision.blocks,
        "reason": explain(decision.reason) if decision.reason else None,
        "checks": [{"pool": c.pool, "flavor": c.flavor, "kind": c.kind, "detail": c.detail} for c in decision.checks],
        "running_not_placed": decision.running_not_placed, "queued_started_at_once": decision.queued_started_at_once,
        "blocked_by": decision.blocked_by or None,
    }
    if outlook is not None:
        out["forecast"] = {
            "replications": outlook.replications, "started": outlook.started,
            "start": {key: value.isoformat(sep=" ", timespec="seconds") if value else None
                      for key, value in outlook.start.items()},
            "wait_hours": outlook.wait_h, "pools": outlook.pools, "reasons": outlook.reasons,
            "horizon": outlook.horizon.isoformat(sep=" "),
        }
    return out
