"""What the scheduler plans a job to take: its time limit (Slurm's behaviour) or its true run time.

Slurm's backfill plans every job to run until its time limit (sbatch --time). A job
without one takes the partition's DefaultTime, else its MaxTime; when that is unlimited
too, backfill plans it to run for a year (`YEAR_MINUTES` in Slurm's
src/plugins/sched/backfill/backfill.c). `exact` plans with the true run time, cut at the
limit: what no real scheduler knows, kept for comparison and for policies that assume it.
"""

from __future__ import annotations

import numpy as np

from gpufleet.spec.workload import Estimate

NO_LIMIT_PLAN_S = 365 * 86400.0
"""What backfill plans for a job without a time limit: a year, as Slurm's backfill does."""


def planned_run_s(duration_s: np.ndarray, limit_s: np.ndarray, mode: Estimate) -> np.ndarray:
    """Per job, the run time the scheduler plans with under `mode`."""
    if mode is Estimate.exact:
        return np.minimum(duration_s, limit_s)
    return np.where(np.isfinite(limit_s), limit_s, NO_LIMIT_PLAN_S)
