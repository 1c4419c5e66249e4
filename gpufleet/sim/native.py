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
from gpufleet.sched import reasons
from gpufleet.sched.placement.best_fit import BestFitPlacement
from gpufleet.sched.policies.fifo import FifoPolicy
from gpufleet.sched.policies.priority import PriorityPolicy
from gpufleet.sched.scheduler import Scheduler
from gpufleet.sim.engine_choice import EngineChoice
from gpufleet.sim.history import ColumnHistory
from gpufleet.sim.native_failures import (
    REASON_BASE,
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
                    reasons.STRICT_ORDER, reasons.NOT_EXAMINED, reasons.TIME_LIMIT, reasons.NEVER_FITS], dtype=object)
_NEVER_FITS_CODE = 7


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
    if type(policy) not in (FifoPolicy, PriorityPolicy):
        return f"policy {type(policy).__name__} (the core has fifo and priority)"
    if type(scheduler.placement) is not BestFitPlacement:
        return f"placement {type(scheduler.placement).__name__} (the core has best_fit)"
    if any(len(simulation.layout.provider_tiers(flavors)) > 1 for _, _, _, flavors in simulation.jobs.shapes):
        return "placement across providers in order (flavors naming several providers)"
    if not scheduler.quotas.unlimited:
        return "queues with quotas (scheduler.queues)"
    if any(scheduler.may_preempt(queue) for queue in range(len(scheduler.quotas.names))) or policy.preemptive:
        return "preemption"
    if policy.round_s is not None or policy.dynamic_queue_order or scheduler.ties is not None:
        return "round-based or fair-share ordering"
    if simulation.serving is not None or simulation.standing_shapes:
        return "inference services"
    if len(failure_reasons(simulation)) > 255 - REASON_BASE:
        return f"more than {255 - REASON_BASE} distinct failure causes"
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
    if isinstance(scheduler.policy, PriorityPolicy):
        policy_value = -np.asarray(scheduler.priority, dtype=np.int64)
    else:
        policy_value = np.zeros(len(jobs), dtype=np.int64)
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
        **failure_spec(simulation),
    }


def record_from_columns(simulation: Simulation, columns: dict[str, Any]) -> RunRecord:
    """The `RunRecord` the Python engine would return, from the core's columns."""
    scheduler, n = _scheduler(simulation), len(simulation.jobs)
    status_code, reason_code = columns["status"].astype(np.int64), columns["reason"].astype(np.int64)
    # The core's fixed reasons, then the run's own (failure causes) from REASON_BASE on.
    labels = _reason_table(simulation).tolist()
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
        preemptions=np.zeros(n, dtype=np.int64),
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


def _reason_table(simulation: Simulation) -> np.ndarray:
    """Reasons by the core's codes: the fixed ones, then the run's own from REASON_BASE."""
    extra = failure_reasons(simulation)
    if not extra:
        return _REASON
    padding = [""] * (REASON_BASE - len(_REASON))
    return np.array([*_REASON.tolist(), *padding, *extra], dtype=object)

