"""The run's answers in one JSON-ready dict: capacity, waits, utilisation, money."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpufleet.catalog.size_class import LABELS
from gpufleet.econ.ledger import term_end
from gpufleet.econ.pricing import pool_prices
from gpufleet.fleet.layout import FleetLayout
from gpufleet.results.fullness import fullness
from gpufleet.results.waits import censored_waits_h
from gpufleet.spec.scenario import Scenario

WAIT_DEFINITIONS = {
    "wait": "started jobs only: jobs still waiting at the horizon are left out (biased low near the end)",
    "wait_km": "every submitted job that can ever fit, those still waiting as censored at their wait so far "
               "(Kaplan-Meier; a quantile is null when too many still wait to reach it; the restricted mean is "
               "the mean wait up to the longest wait seen)",
}


class Labels:
    """A string column as a code per row into its distinct values (`present`)."""

    def __init__(self, column: pa.ChunkedArray | pa.Array) -> None:
        encoded = pc.fill_null(pc.dictionary_encode(column), "")
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        self._index: dict[str, int] = {}
        codes = []
        for chunk in chunks:  # a chunk's codes point into its own dictionary: map them onto `present`
            values = chunk.dictionary.to_pylist()
            remap = np.array([self._index.setdefault(value, len(self._index)) for value in values], dtype=np.int64)
            indices = chunk.indices.to_numpy(zero_copy_only=False)
            codes.append(remap[indices] if len(values) else np.zeros(len(chunk), dtype=np.int64))
        self.codes = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        self.present = list(self._index)

    def __len__(self) -> int:
        return len(self.codes)

    def equals(self, value: str) -> np.ndarray:
        """Per row, whether it holds `value`."""
        code = self._index.get(value)
        return np.zeros(len(self.codes), dtype=bool) if code is None else self.codes == code


def _quantiles_h(values_s: np.ndarray) -> dict[str, float | None]:
    if len(values_s) == 0:
        return {"mean_h": None, "p50_h": None, "p95_h": None, "p99_h": None}
    hours = values_s / 3600.0
    p50, p95, p99 = np.quantile(hours, [0.5, 0.95, 0.99])
    return {"mean_h": float(hours.mean()), "p50_h": float(p50), "p95_h": float(p95), "p99_h": float(p99)}


def summarize(scenario: Scenario, layout: FleetLayout, seed: int, horizon: datetime,
              jobs: pa.Table, timeseries: pa.Table, ledger: pa.Table, failures: pa.Table) -> dict[str, Any]:
    """Everything a reader needs to answer: when is the fleet full, how long do jobs wait,
    how much of what was billed did work, how does spending track the commitment."""
    # String columns as codes into their distinct values: comparing small integers, not a
    # million Python strings per test (9 s -> under 1 s for a million jobs).
    status = Labels(jobs["status"])
    size = Labels(jobs["size_class"])
    queue = Labels(jobs["queue"])
    wait = jobs["wait_s"].to_numpy()
    jct = jobs["jct_s"].to_numpy()
    started = ~np.isnan(jobs["start_s"].to_numpy())
    horizon_s = (horizon - scenario.start).total_seconds()
    waiting = status.equals("queued")
    # Kaplan-Meier: started jobs waited wait_s; queued ones have waited until the horizon so far.
    waited = np.where(started, wait, horizon_s - jobs["submit_s"].to_numpy())
    known = started | waiting
    completed = status.equals("completed")
    never_fits = status.equals("never_fits")
    time_limit = status.equals("time_limit")
    ettr = jobs["ettr"].to_numpy()
    interruptions = jobs["interruptions"].to_numpy()
    gpu_hours = jobs["gpu_hours"].to_numpy()

    def group(mine: np.ndarray) -> dict[str, Any]:
        mine_known = mine & known
        return {
            "jobs": int(mine.sum()),
            "started": int((mine & started).sum()),
            "queued_at_end": int((mine & waiting).sum()),
            "never_fits": int((mine & never_fits).sum()),
            "time_limit": int((mine & time_limit).sum()),
            "wait": _quantiles_h(wait[mine & started]),
            "wait_km": censored_waits_h(waited[mine_known], started[mine_known]),
            "completion_time": _quantiles_h(jct[mine & completed]),
            "gpu_hours": float(gpu_hours[mine].sum()),
            "mean_ettr": _mean(ettr[mine & started]),
            "interruptions": int(interruptions[mine].sum()),
        }

    by_class = {label: group(size.equals(label)) for label in LABELS if label in size.present}
    by_queue = {name: group(queue.equals(name)) for name in sorted(queue.present)}
    seconds = timeseries["interval_s"].to_numpy()
    installed_gpu_h = float((timeseries["installed_gpus"].to_numpy() * seconds).sum() / 3600.0)
    allocated_gpu_h = float((timeseries["allocated_gpus"].to_numpy() * seconds).sum() / 3600.0)
    pools = []
    for pool, (price, price_source) in zip(layout.pools, pool_prices(scenario, layout), strict=True):
        inst = timeseries[f"{pool.name}.installed_gpus"].to_numpy()
        alloc = timeseries[f"{pool.name}.allocated_gpus"].to_numpy()
        inst_h, alloc_h = float((inst * seconds).sum() / 3600), float((alloc * seconds).sum() / 3600)
        pools.append({
            "name": pool.name,
            "gpu": pool.gpu.name,
            "racks_ever": pool.racks,
            "gpus_per_rack": pool.rack_gpus,
            "installed_gpus_at_end": float(inst[-1]) if len(inst) else 0.0,
            "peak_installed_gpus": float(inst.max()) if len(inst) else 0.0,
            "installed_gpu_hours": inst_h,
            "allocated_gpu_hours": alloc_h,
            "utilisation": alloc_h / inst_h if inst_h else 0.0,
            "price_usd_per_gpu_hour": price,
            "price_source": price_source,
        })
    billed = float(np.sum(ledger["billed_usd"].to_numpy()))
    used = float(np.sum(ledger["used_usd"].to_numpy()))
    money: dict[str, Any] = {
        "committed_to_date_usd": float(np.sum(ledger["committed_usd"].to_numpy())),
        "billed_usd": billed,
        "used_usd": used,
        "used_share_of_billed": used / billed if billed else None,
    }
    if "purchased_usd" in ledger.column_names:
        money["purchased_usd"] = float(np.sum(ledger["purchased_usd"].to_numpy()))
        money["purchased_used_usd"] = float(np.sum(ledger["purchased_used_usd"].to_numpy()))
    contract = scenario.contract
    if contract is not None:
        end = term_end(scenario)
        assert end is not None
        value = contract.value_usd + sum(o.value_usd for o in contract.expansions if o.exercise)
        remaining_h = max((end - horizon).total_seconds(), 0.0) / 3600.0
        run_rate = sum(p["installed_gpus_at_end"] * p["price_usd_per_gpu_hour"] for p in pools
                       if not p["price_source"].startswith("purchase"))
        projected = billed + run_rate * remaining_h
        money.update({
            "contract_value_usd": value,
            "term_end": end.date().isoformat(),
            "remaining_commitment_usd": value - billed,
            "run_rate_usd_per_hour_at_end": run_rate,
            "projected_term_billed_usd": projected,
            "projected_shortfall_usd": max(value - projected, 0.0),
        })
    named = jobs.filter(pc.equal(jobs["kind"], "explicit"))
    capacity = {
        "installed_gpu_hours": installed_gpu_h,
        "allocated_gpu_hours": allocated_gpu_h,
        "utilisation": allocated_gpu_h / installed_gpu_h if installed_gpu_h else 0.0,
        **fullness(scenario.start, timeseries),
        "mean_unusable_gpus": float(np.average(timeseries["unusable_gpus"].to_numpy(), weights=seconds))
        if seconds.sum() > 0 else 0.0,
        **_idle(layout, timeseries, pools, billed, installed_gpu_h),
        "pools": pools,
    }
    if any(pool.delivery_risk is not None or any(change.slip is not None or change.burn_in_days is not None
                                                 for change in pool.deliveries) for pool in scenario.fleet.pools):
        capacity["deliveries"] = delivery_rows(scenario.start, layout)
    return {
        "scenario": scenario.name,
        "seed": seed,
        "replications": 1,  # a single run; `gpufleet run --replications N` writes replications.json
        "start": scenario.start.isoformat(),
        "horizon": horizon.isoformat(),
        "jobs": {
            "total": len(status),
            **{name: int(status.equals(name).sum()) for name in
               ("completed", "time_limit", "running", "queued", "never_fits", "not_submitted")},
            "started": int(started.sum()),
            "completion_time": _quantiles_h(jct[completed]),
            "wait": _quantiles_h(wait[started]),
            "wait_km": censored_waits_h(waited[known], started[known]),
        },
        "wait_definitions": WAIT_DEFINITIONS,
        "wait_by_size_class": by_class,
        "by_queue": by_queue,
        "failures": _failures(failures, jobs, timeseries, billed_gpu_hours=installed_gpu_h,
                              jobs_failed=int(status.equals("failed").sum())),
        "preemption": {
            "preemptions": int(jobs["preemptions"].to_numpy().sum()),
            "jobs_preempted": int((jobs["preemptions"].to_numpy() > 0).sum()),
            "lost_gpu_hours": float(jobs["lost_gpu_hours"].to_numpy().sum()
                                    - jobs["failure_lost_gpu_hours"].to_numpy().sum()
                                    - jobs["limit_lost_gpu_hours"].to_numpy().sum()),
            "overhead_gpu_hours": float(jobs["overhead_gpu_hours"].to_numpy().sum()
                                        - jobs["failure_overhead_gpu_hours"].to_numpy().sum()),
        },
        "capacity": capacity,
        "money": money,
        "named_jobs": _named_rows(named, scenario),
    }


def _idle(layout: FleetLayout, timeseries: pa.Table, pools: list[dict[str, Any]], billed_usd: float,
          installed_gpu_h: float) -> dict[str, Any]:
    """Installed GPU-hours no job could use: stranded (free, usable by no shape present,
    sampled at the end of each hour) and hot spares (held idle by design)."""
    seconds = timeseries["interval_s"].to_numpy()
    stranded_h = float((timeseries["stranded_gpus"].to_numpy() * seconds).sum() / 3600.0)
    spare_h = sum(row["installed_gpu_hours"] * (pool.installed_rack_gpus - pool.rack_gpus) / pool.installed_rack_gpus
                  for pool, row in zip(layout.pools, pools, strict=True))
    price = billed_usd / installed_gpu_h if installed_gpu_h else 0.0
    return {
        "stranded_gpu_hours": stranded_h,
        "stranded_share_of_installed": stranded_h / installed_gpu_h if installed_gpu_h else 0.0,
        "stranded_billed_usd": stranded_h * price,
        "spare_gpu_hours": float(spare_h),
        "spare_share_of_installed": float(spare_h) / installed_gpu_h if installed_gpu_h else 0.0,
    }


def delivery_rows(start: datetime, layout: FleetLayout) -> list[dict[str, Any]]:
    """Each delivery: pool, racks, GPUs, planned date, handover after its slip, ready after burn-in."""
    def when(seconds: float) -> str:
        return (start + timedelta(seconds=seconds)).isoformat()

    return [{"pool": layout.pools[delivery.pool].name, "racks": delivery.racks,
             "gpus": delivery.racks * layout.pools[delivery.pool].installed_rack_gpus,
             "planned": when(delivery.planned_s), "handover": when(delivery.handover_s),
             "ready": when(delivery.ready_s), "slip_days": delivery.slip_s / 86400.0,
             "burn_in_days": delivery.burn_in_s / 86400.0, "key": delivery.label}
            for delivery in sorted(layout.deliveries, key=lambda d: (d.pool, d.planned_s))]


def start_by_seconds(scenario: Scenario) -> dict[str, float]:
    """The `start_by` of each explicit job that has one (on the job or in `value.delay`), in seconds
    from the scenario start."""
    dates = {job.name: job.start_by for entry in scenario.workloads if entry.jobs is not None
             for job in entry.jobs.items if job.start_by is not None}
    if scenario.value is not None:
        dates.update({entry.job: entry.start_by for entry in scenario.value.delay
                      if entry.job is not None and entry.start_by is not None})
    return {name: scenario.seconds(when) for name, when in dates.items()}


def _mean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def _failures(failures: pa.Table, jobs: pa.Table, timeseries: pa.Table, billed_gpu_hours: float,
              jobs_failed: int) -> dict[str, Any]:
    """Failures by cause and process, what they cost, and goodput (useful / billed GPU-hours)."""
    seconds = timeseries["interval_s"].to_numpy()
    productive = float(jobs["productive_gpu_hours"].to_numpy().sum())
    causes = failures["cause"].to_pylist()
    processes = failures["process"].to_pylist()
    return {
        "failures": failures.num_rows,
        "by_cause": {cause: causes.count(cause) for cause in sorted(set(causes))},
        "by_process": {name: processes.count(name) for name in sorted(set(processes))},
        "jobs_hit": int(pc.sum(failures["jobs_hit"]).as_py() or 0),
        "spare_swaps": int(pc.sum(failures["spare_used"].cast("int64")).as_py() or 0),
        "interruptions": int(jobs["interruptions"].to_numpy().sum()),
        "jobs_failed": jobs_failed,
        "lost_gpu_hours": float(jobs["failure_lost_gpu_hours"].to_numpy().sum()),
        "restart_overhead_gpu_hours": float(jobs["failure_overhead_gpu_hours"].to_numpy().sum()),
        "checkpoint_gpu_hours": float(jobs["checkpoint_gpu_hours"].to_numpy().sum()),
        "mean_gpus_in_repair": float(np.average(timeseries["gpus_in_repair"].to_numpy(), weights=seconds))
        if seconds.sum() > 0 else 0.0,
        "productive_gpu_hours": productive,
        "goodput": productive / billed_gpu_hours if billed_gpu_hours else None,
    }


def _named_rows(named: pa.Table, scenario: Scenario) -> list[dict[str, Any]]:
    start_by = start_by_seconds(scenario)
    rows = []
    for row in named.select(["name", "gpus", "status", "submit_time", "wait_s", "run_s", "pool", "reason",
                             "start_s"]).to_pylist():
        extra: dict[str, Any] = {}
        if row["name"] in start_by:  # did it start by the date the plan needs?
            deadline = start_by[row["name"]]
            begun = row["start_s"] is not None and not np.isnan(row["start_s"])
            extra = {"start_by": (scenario.start + timedelta(seconds=deadline)).isoformat(),
                     "started_by_date": bool(begun and row["start_s"] <= deadline),
                     "days_late": max(row["start_s"] - deadline, 0.0) / 86400.0 if begun else None}
        rows.append({
            "name": row["name"],
            "gpus": row["gpus"],
            "status": row["status"],
            "submitted": row["submit_time"].isoformat() if row["submit_time"] else None,
            "wait_h": None if row["wait_s"] is None or np.isnan(row["wait_s"]) else row["wait_s"] / 3600,
            "run_h": None if row["run_s"] is None or np.isnan(row["run_s"]) else row["run_s"] / 3600,
            "pool": row["pool"],
            "reason": row["reason"],
            **extra,
        })
    return rows
