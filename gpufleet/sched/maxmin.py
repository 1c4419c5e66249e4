"""Gavel's max-min fairness allocation as a linear program, solved by HiGHS.

Narayanan et al., "Heterogeneity-Aware Cluster Scheduling Policies for Deep Learning
Workloads", OSDI 2020, section 4.1: an allocation X gives each job m the fraction of
time X[m, j] it should spend on GPU type j. A job's effective throughput is
sum_j T[m, j] X[m, j]. Max-min fairness maximises the smallest weighted, normalised
effective throughput:

    maximise  min_m  sum_j c[m, j] X[m, j]
    subject to  0 <= X[m, j] <= 1 (0 where job m may not use type j),
                sum_j X[m, j] <= 1                 (one type at a time),
                sum_m s[m] X[m, j] <= N[j]         (GPUs of each type),

and, where the jobs' queues have quotas, one more row per limit:
                sum_{m in G} s[m] X[m, j] <= L      (a group G's GPUs of type j),

with c[m, j] = s[m] T[m, j] / (w[m] T_equal[m]) (s: the job's GPUs, w: its weight,
T_equal: its throughput under the heterogeneity-agnostic allocation). The minimum is a
variable t with one constraint t <= sum_j c[m, j] X[m, j] per job. Gavel solves it with
cvxpy; here it is the same LP through `scipy.optimize.linprog(method="highs")`.

Only the smallest share is fixed by that LP: every allocation that gives each job at
least t* is optimal, and a simplex solver returns whichever vertex it reaches (Gavel's
interior-point solver returns a point inside that face instead). A second LP therefore
picks, among the optimal allocations, the one with the largest total
sum_m sum_j c[m, j] X[m, j] (each job kept at t* or above): the most normalised
throughput the fair share allows, so a job that runs three times as fast on a free type
gets it. Both solves are deterministic (HiGHS returns the same vertex for the same
problem); the allocation is clipped to [0, 1] and rounded to 1e-9 so that solver noise in
the last bits never decides a round.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIGITS = 9
"""Decimal digits the allocation is rounded to."""


GroupLimit = tuple[np.ndarray, int, float]
"""A cap on a group's GPUs of one type: (jobs in the group as a boolean mask, type, GPUs)."""


def max_min_allocation(coefficients: np.ndarray, scale: np.ndarray, capacity: np.ndarray,
                       allowed: np.ndarray, limits: Sequence[GroupLimit] = ()) -> np.ndarray:
    """X maximising min_m sum_j coefficients[m, j] X[m, j] (see the module docstring).

    Args:
        coefficients: (jobs x types) objective coefficients c.
        scale: GPUs per job (s).
        capacity: GPUs per type (N).
        allowed: (jobs x types) whether a job may use a type.
        limits: caps on groups of jobs' GPUs of a type (a queue's quota, a cohort's pool).

    Returns:
        The (jobs x types) allocation, each entry in [0, 1], rounded to `DIGITS` decimals.

    Raises:
        RuntimeError: when HiGHS does not find an optimum (it always exists: X = 0 is feasible).
    """
    # scipy.optimize takes about a second to import: only runs with a Gavel policy pay it.
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    m, n = coefficients.shape
    if m == 0:
        return np.zeros((0, n))
    x_count = m * n
    t = x_count  # index of the min variable
    job = np.repeat(np.arange(m), n)
    kind = np.tile(np.arange(n), m)
    variable = np.arange(x_count)
    rows, cols, values = [], [], []
    # t - sum_j c[m, j] X[m, j] <= 0, one row per job
    rows += [np.arange(m), job]
    cols += [np.full(m, t), variable]
    values += [np.ones(m), -coefficients.reshape(-1)]
    # sum_j X[m, j] <= 1
    rows.append(m + job)
    cols.append(variable)
    values.append(np.ones(x_count))
    # sum_m s[m] X[m, j] <= N[j]
    rows.append(2 * m + kind)
    cols.append(variable)
    values.append(np.repeat(scale.astype(np.float64), n))
    bounds_of_limits = []
    for row, (members, kind_limited, bound) in enumerate(limits, start=2 * m + n):
        chosen = np.flatnonzero(members)
        rows.append(np.full(len(chosen), row))
        cols.append(chosen * n + kind_limited)
        values.append(scale[chosen].astype(np.float64))
        bounds_of_limits.append(float(bound))
    matrix = coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(2 * m + n + len(limits), x_count + 1)).tocsr()
    upper = np.concatenate([np.zeros(m), np.ones(m), capacity.astype(np.float64),
                            np.array(bounds_of_limits, dtype=np.float64)])
    objective = np.zeros(x_count + 1)
    objective[t] = -1.0
    bounds = np.zeros((x_count + 1, 2))
    bounds[:x_count, 1] = allowed.reshape(-1).astype(np.float64)
    bounds[t] = (0.0, np.inf)
    result = linprog(objective, A_ub=matrix, b_ub=upper, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"max-min allocation: HiGHS did not find an optimum ({result.message})")
    # Second stage: t held at (a hair under) its optimum, maximise the total.
    fair = float(result.x[t]) * (1.0 - 1e-9)
    bounds[t] = (fair, np.inf)
    objective = np.concatenate([-coefficients.reshape(-1), [0.0]])
    result = linprog(objective, A_ub=matrix, b_ub=upper, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"max-min allocation, second stage: HiGHS did not find an optimum ({result.message})")
    rounded: np.ndarray = np.round(np.clip(result.x[:x_count], 0.0, 1.0), DIGITS).reshape(m, n) + 0.0
    return rounded
