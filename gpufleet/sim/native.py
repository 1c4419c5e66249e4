"""The native engine core (`gpufleet._core`, Rust): which runs it covers, and the way in and out.

The core runs a whole run (capacity changes, arrivals, ends, scheduling passes, hourly
samples) for the subset described in docs/engine.md, with the same float arithmetic in the
same order as the Python engine, so a run gives the same bytes whichever engine runs it.
Everything random is drawn here, in Python, before the core starts: it receives the built
fleet, the drawn jobs and the scheduler's settings as arrays and returns columns, from which
this module builds the same `RunRecord` the Python engine returns.

`choose` decides: `auto` takes the core when the built run uses only what it covers (else the
Python engine, saying why), `native` insists (an `InputError` naming the first feature it
lacks), `python` is the reference engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.sched import quota, reasons
from gpufleet.sched.placement.best_fit import BestFitPlacement
from gpufleet.sched.policies.drf import DrfPolicy
from gpufleet.sched.policies.fgf import FgfPolicy, PreemptiveFgfPolicy
from gpufleet.sched.policies.fifo import FifoPolicy
from gpufleet.sched.policies.las import LasPolicy
from gpufleet.sched.policies.priority import PriorityPolicy
from gpufleet.sched.policies.sjf import SjfPolicy, SrtfPolicy
from gpufleet.sched.policies.srsf import SrsfPolicy
from gpufleet.sched.progress import JobProgress
from gpufleet.sched.scheduler import Scheduler
from gpufleet.sim.engine_choice import EngineChoice
from gpufleet.sim.history import ColumnHistory
from gpufleet.sim.native_failures import (
    failed_log,
    failure_reasons,
    failure_records,
    failure_spec,
)
from gpufleet.sim.simulation import ProgressFn, RunRecord, Simulation, Status

PROGRESS_EVERY = 50_000  # events between progress reports (the Python engine's default)
_STATUS = np.array([Status.COMPLETED, Status.TIME_LIMIT, Status.RUNNING, Status.QUEUED, Status.NEVER_FITS,
                    Status.NOT_SUBMITTED, Status.FAILED], dtype=object)
_REASON = np.array(["", reasons.INSUFFICIENT_GPUS, reasons.NO_TOPOLOGY_FIT, reasons.BEHIND_RESERVATION,
                    reasons.STRICT_ORDER, reasons.NOT_EXAMINED, reasons.TIME_LIMIT, reasons.NEVER_FITS,
                    reasons.PREEMPTED], dtype=object)
_NEVER_FITS_CODE = 7
_STATIC_POLICIES = (FifoPolicy, PriorityPolicy, SjfPolicy, FgfPolicy)
"""Policies whose keys never move: the core orders by values computed here (`_static_values`)."""
_MOVING_POLICIES = {PreemptiveFgfPolicy: "fgf_preemptive", SrtfPolicy: "srtf", SrsfPolicy: "srsf", LasPolicy: "las",
                    DrfPolicy: "drf"}
"""The policies the core implements itself (`crates/gpufleet-core/src/policy.rs`), by its names for them:
the preemptive ones, and drf's order between queues."""


def core_missing() -> str | None:
    """Why the compiled core cannot be loaded (None: it can)."""
    try:
        from gpufleet import _core  # noqa: F401
    except ImportError as error:
        return f"the compiled core gpufleet._core is not built ({error}); `make test` or `pip install -e .` builds it"
    return None


def unsupported(simulation: Simulation) -> str | None:
    """The first feature of this built run that the native core does not cover (None: it covers all)."""
    scheduler, progress = simulation.scheduler, simulation.progress
    if not isinstance(scheduler, Scheduler):
        return f"scheduler {type(scheduler).__name__} (the core ports gpufleet's own)"
    policy = scheduler.policy
    if type(policy) not in (*_STATIC_POLICIES, *_MOVING_POLICIES):
        return (f"policy {type(policy).__name__} "
                "(the core has fifo, priority, sjf, srtf, srsf, fgf, fgf_preemptive, las and drf)")
    if type(scheduler.placement) is not BestFitPlacement:
        return f"placement {type(scheduler.placement).__name__} (the core has best_fit)"
    if scheduler.tries_providers_in_order():
        return "providers in order of preference (queue or workload `providers`)"
    if policy.round_s is not None or (policy.dynamic_queue_order and type(policy) is not DrfPolicy):
        return "round-based or fair-share ordering"
    if scheduler.ties is not None:
        return "stable ties under a policy whose keys move (ties: stable with srtf, srsf or las)"
    if simulation.serving is not None or simulation.standing_shapes:
        return "inference services"
    if progress.varied_speed:
        return "per-GPU-type speeds (throughput)"
    return None


def choose(simulation: Simulation, engine: EngineChoice | str) -> tuple[bool, str | None]:
    """(whether the native core runs it, why the Python engine runs it instead under `auto`).

    Raises InputError when `native` is asked for a run the core does not cover."""
    engine = EngineChoice(engine)
    if engine is EngineChoice.python:
        return False, None
    missing = unsupported(simulation) or core_missing()
    if missing is None:
        return True, None
    if engine is EngineChoice.native:
        raise InputError([Problem(f"--engine native: the native core does not cover {missing} "
                                  "(docs/engine.md); use --engine auto or --engine python")])
    return False, missing


def run(simulation: Simulation, engine: EngineChoice | str = EngineChoice.auto,
        progress: ProgressFn | None = None) -> tuple[RunRecord, str, str | None]:
    """Run `simulation` on the chosen engine: (its record, "native" or "python", why Python under auto)."""
    native, why = choose(simulation, engine)
    if not native:
        return simulation.run(progress), EngineChoice.python.value, why
    return run_native(simulation, progress), EngineChoice.native.value, None


def run_native(simulation: Simulation, progress: ProgressFn | None = None) -> RunRecord:
    """Run `simulation` on the native core (the caller has checked `unsupported`)."""
    from gpufleet import _core

    columns = _core.run(core_spec(simulation), progress)
    return record_from_columns(simulation, columns)


def core_spec(simulation: Simulation) -> dict[str, Any]:
    """The built run as the core reads it: plain numbers, lists and numpy arrays."""
    layout, jobs, scheduler, progress = simulation.layout, simulation.jobs, _scheduler(simulation), simulation.progress
    first_block = np.array([pool.block_lo for pool in layout.pools], dtype=np.int64)
    policy_value = _static_values(scheduler, progress, len(jobs))
    never_fits = np.zeros(len(jobs), dtype=bool)
    never_fits[list(simulation.never_fits)] = True
    return {
        "pools": [(pool.rack_lo, pool.rack_hi, pool.rack_gpus, pool.racks_per_block, pool.block_hi - pool.block_lo)
                  for pool in layout.pools],
        "rack_gpus": np.ascontiguousarray(layout.rack_gpus, dtype=np.int64),
        "rack_installed_gpus": np.ascontiguousarray(layout.rack_installed_gpus, dtype=np.int64),
        "rack_block": np.ascontiguousarray(layout.rack_block, dtype=np.int64),
        "block_in_pool": np.ascontiguousarray(layout.rack_block - first_block[layout.rack_pool], dtype=np.int64),
        "rack_pool": np.ascontiguousarray(layout.rack_pool, dtype=np.int64),
        "changes": [(float(change.time_s), change.pool, change.rack_lo, change.rack_hi, bool(change.retire))
                    for change in layout.changes],
        "groups": sorted({int(group) for _, group, _, _ in jobs.shapes}),
        "shapes": [(int(gpus), int(group), bool(within), list(pools))
                   for (gpus, group, within, _), pools in zip(jobs.shapes, scheduler.shape_pools, strict=True)],
        "shape_of": np.ascontiguousarray(jobs.shape, dtype=np.int64),
        "queue_of": np.asarray(scheduler.queue_of, dtype=np.int64),
        "policy_value": policy_value,
        "policy": _policy_spec(scheduler),
        "gpus": np.asarray(progress.column("gpus"), dtype=np.float64),
        "free_preemption": bool(progress.free_preemption),
        "predict_team": _predict_team(scheduler, simulation),
        **_drf_spec(scheduler),
        "strict": [scheduler.strict_fifo(queue) for queue in range(len(scheduler.quotas.names))],
        "backfill": scheduler.backfill.value,
        "max_job_test": int(scheduler.max_job_test),
        "submit_s": np.ascontiguousarray(jobs.submit_s, dtype=np.float64),
        "work_s": np.asarray(progress.column("work_s"), dtype=np.float64),
        "estimate_s": np.asarray(progress.column("estimate_s"), dtype=np.float64),
        "checkpoint_s": np.asarray(progress.column("checkpoint_s"), dtype=np.float64),
        "limit_s": np.asarray(progress.column("limit_s"), dtype=np.float64),
        "restart_overhead_s": float(progress.restart_overhead_s),
        "write_s": float(progress.write_s),
        "rate_per_s": None if progress.rate_per_s is None else np.asarray(progress.rate_per_s, dtype=np.float64),
        "hits_limit": np.asarray(simulation.hits_limit_mask, dtype=bool),
        "never_fits": never_fits,
        "until_s": float(simulation.until_s),
        "sample_times": np.ascontiguousarray(simulation.sample_times, dtype=np.float64),
        "progress_every": PROGRESS_EVERY,
        **failure_spec(simulation, len(_reasons(scheduler))),
        **_quota_spec(scheduler),
        "priority": np.asarray(scheduler.priority, dtype=np.int64),
        "preemption": [(spec.preemption.within_cluster_queue.value, spec.preemption.reclaim_within_cohort.value,
                        spec.preemption.borrow_within_cohort.value) for spec in scheduler.queue_specs],
        "any_scope": bool(scheduler.any_scope),
    }


def _static_values(scheduler: Scheduler, progress: JobProgress, n: int) -> np.ndarray:
    """Per job, the value its policy orders it by (smaller first; then the job index): the
    key of a policy whose keys never move, as int64 ordered as the key is (a float key's
    bits, negatives flipped, so that integer order is float order)."""
    policy = scheduler.policy
    if isinstance(policy, PriorityPolicy | DrfPolicy):  # drf: priority within a queue
        return -np.asarray(scheduler.priority, dtype=np.int64)
    if isinstance(policy, SjfPolicy):
        return _float_order(np.asarray(progress.estimate_s, dtype=np.float64))
    if isinstance(policy, FgfPolicy):
        return np.asarray(progress.gpus, dtype=np.int64)
    return np.zeros(n, dtype=np.int64)


def _policy_spec(scheduler: Scheduler) -> tuple[str, list[float], float | None]:
    """(the core's name for the policy, las' thresholds in GPU-seconds, las' starvation factor)."""
    policy = scheduler.policy
    if isinstance(policy, LasPolicy):
        return "las", [float(t) for t in policy.thresholds_gpu_s], policy.options.starvation_factor
    if type(policy) is SjfPolicy and policy.predictor is not None:  # its keys follow the history
        return "sjf", [], None
    return _MOVING_POLICIES.get(type(policy), "static"), [], None


def _predict_team(scheduler: Scheduler, simulation: Simulation) -> np.ndarray | None:
    """Per job its team (an index), for sjf, srtf and srsf with predicted run times (else None)."""
    policy = scheduler.policy
    if not isinstance(policy, SjfPolicy) or policy.predictor is None:
        return None
    _, team = np.unique(np.asarray(simulation.jobs.team, dtype=object).astype(str), return_inverse=True)
    return np.asarray(team, dtype=np.int64)


def _drf_spec(scheduler: Scheduler) -> dict[str, Any]:
    """drf's weights, flavors and usage decay per second (None: GPUs held now); none for other policies."""
    policy = scheduler.policy
    if not isinstance(policy, DrfPolicy):
        return {}
    context = policy.context
    return {"drf_weights": np.asarray(context.queue_weights, dtype=np.float64),
            "drf_flavor_of_pool": np.asarray(context.flavor_of_pool, dtype=np.int64),
            "drf_n_flavors": int(context.n_flavors), "drf_decay": policy.decay}


def _float_order(values: np.ndarray) -> np.ndarray:
    """int64s in the order of the floats `values` (no NaN; -0.0 equal to 0.0, as Python compares)."""
    bits = (values + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    return np.where(bits < 0, bits ^ np.int64(0x7FFF_FFFF_FFFF_FFFF), bits)


def _quota_spec(scheduler: Scheduler) -> dict[str, Any]:
    """The quota book's tables, flattened (queue- or pool-major), and the pools' flavors."""
    quotas = scheduler.quotas
    return {
        "flavor_of_pool": np.asarray(scheduler.flavor_of_pool, dtype=np.int64),
        "quota_unlimited": bool(quotas.unlimited),
        "n_flavors": len(quotas.flavors),
        "quota_nominal": np.asarray(quotas.nominal, dtype=np.float64).ravel(),
        "quota_cap": np.asarray(quotas.cap, dtype=np.float64).ravel(),
        "quota_guaranteed": np.asarray(quotas.guaranteed, dtype=np.float64).ravel(),
        "quota_pool_of": np.asarray(quotas.pool_of, dtype=np.int64),
        "quota_pool_capacity": np.asarray(quotas.pool_capacity, dtype=np.float64).ravel(),
        "quota_reason_base": len(_REASON),
    }


def _reasons(scheduler: Scheduler) -> np.ndarray:
    """The text of every reason code the core may return: the fixed ones, then one per
    (queue, flavor, quota limit) in the core's order."""
    quotas = scheduler.quotas
    limits = (quota.NOMINAL, quota.BORROWING, quota.COHORT_LENT)
    texts = [quotas.limit_reason(q, f, limit) for q in range(quotas.n_queues)
             for f in range(len(quotas.flavors)) for limit in limits]
    return np.concatenate([_REASON, np.array(texts, dtype=object)])


def record_from_columns(simulation: Simulation, columns: dict[str, Any]) -> RunRecord:
    """The `RunRecord` the Python engine would return, from the core's columns."""
    scheduler = _scheduler(simulation)
    status_code, reason_code = columns["status"].astype(np.int64), columns["reason"].astype(np.int64)
    # The core's fixed reasons, one per (queue, flavor, quota limit), then the run's failure reasons.
    labels = [*_reasons(scheduler).tolist(), *failure_reasons(simulation)]
    # A job that never fits has its own message (by shape and capacity epoch): one label per message.
    never = (reason_code == _NEVER_FITS_CODE).nonzero()[0]
    messages = [simulation.never_fits[job] for job in never.tolist()]
    distinct = list(dict.fromkeys(messages))
    reason_labels = [*labels, *distinct]
    position = {message: len(labels) + index for index, message in enumerate(distinct)}
    reason_code[never] = np.array([position[message] for message in messages], dtype=np.int64)
    samples = columns["samples"].reshape(-1, 6)
    gpus = simulation.jobs.gpus.astype(np.float64)
    return RunRecord(
        start_s=columns["start_s"],
        end_s=columns["end_s"],
        status=_STATUS[status_code],
        reason=np.array(reason_labels, dtype=object)[reason_code],
        history=ColumnHistory(columns["history_job"], columns["history_time"], columns["history_reason"], labels),
        reserved_s=columns["reserved_s"],
        pool=columns["pool"],
        racks=columns["racks"],
        blocks=columns["blocks"],
        queue=np.array(scheduler.queue_of, dtype=np.int64),
        queue_names=list(scheduler.quotas.names),
        priority=np.array(scheduler.priority, dtype=np.int64),
        preemptions=columns["preemptions"],
        interruptions=columns["interruptions"],
        productive_gpu_s=columns["productive_s"] * gpus,
        lost_gpu_s=columns["lost_s"] * gpus,
        overhead_gpu_s=columns["overhead_s"] * gpus,
        failure_lost_gpu_s=columns["failure_lost_s"] * gpus,
        failure_overhead_gpu_s=columns["failure_overhead_s"] * gpus,
        limit_lost_gpu_s=columns["limit_lost_s"] * gpus,
        checkpoint_gpu_s=columns["writing_s"] * gpus,
        failures=failure_records(simulation, columns),
        failed_log=failed_log(columns),
        segments={"job": columns["segment_job"], "pool": columns["segment_pool"],
                  "start_s": columns["segment_start_s"], "end_s": columns["segment_end_s"]},
        samples={"time_s": samples[:, 0], "free_gpus": samples[:, 1], "unusable_gpus": samples[:, 2],
                 "startable_gpus": samples[:, 3], "stranded_gpus": samples[:, 4],
                 "startable_utilisation": samples[:, 5]},
        capacity_log=list(zip(columns["capacity_time"].tolist(), columns["capacity_pool"].tolist(),
                              columns["capacity_gpus"].tolist(), strict=True)),
        end_of_run_s=simulation.until_s,
        events=int(columns["events"]),
        services=[],
        coded={"status": (status_code, [status.value for status in _STATUS]), "reason": (reason_code, reason_labels)},
    )


def _scheduler(simulation: Simulation) -> Scheduler:
    """The run's scheduler, which `unsupported` has found to be gpufleet's own."""
    scheduler = simulation.scheduler
    if not isinstance(scheduler, Scheduler):
        raise TypeError(f"the native core ports gpufleet's Scheduler, not {type(scheduler).__name__}")
    return scheduler


