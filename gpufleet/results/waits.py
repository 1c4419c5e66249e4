"""Waits with the jobs still waiting: the Kaplan-Meier (product-limit) estimate.

A job still queued at the horizon has waited at least (horizon - submit) and will wait
longer: its wait is right-censored. Means and quantiles over started jobs only leave such
jobs out, and are biased low when many wait at the end. The product-limit estimate of
the survival function S(t) = P(wait > t) uses them as far as they are known:

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i),

with d_i the jobs that started after waiting t_i and n_i the jobs that had waited at
least t_i (started at or after t_i, or still waiting with at least t_i behind them; a job
censored at t_i counts as at risk at t_i, the usual convention). A quantile q is the
first t with S(t) <= 1 - q, defined only if S falls that far ("not reached" otherwise:
too many still wait). The restricted mean is the area under S up to the longest wait
seen, a lower bound on the mean when the longest wait is censored. Plain numpy
(multiplications and divisions only, so the same bits on every machine); the textbook
check is in tests/unit/test_waits.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct event times and S just after each (the estimate is 1 before the first)."""
    durations = np.asarray(durations, dtype=np.float64)
    observed = np.asarray(observed, dtype=bool)
    times = np.unique(durations[observed])
    if len(times) == 0:
        return times, times.copy()
    order = np.sort(durations)
    at_risk = len(order) - np.searchsorted(order, times, side="left")
    events = np.bincount(np.searchsorted(times, durations[observed]), minlength=len(times))
    return times, np.cumprod(1.0 - events / at_risk)


def quantile(times: np.ndarray, survival: np.ndarray, q: float) -> float | None:
    """First time with S <= 1 - q, or None when S never falls that far."""
    reached = np.nonzero(survival <= 1.0 - q + 1e-12)[0]
    return float(times[reached[0]]) if len(reached) else None


def restricted_mean(times: np.ndarray, survival: np.ndarray, until: float) -> float:
    """Area under S from 0 to `until` (S = 1 before the first event time)."""
    edges = np.concatenate(([0.0], times[times < until], [until]))
    levels = np.concatenate(([1.0], survival[times < until]))
    return float(np.sum(np.diff(edges) * levels))


def censored_waits_h(waits_s: np.ndarray, started: np.ndarray) -> dict[str, Any]:
    """The Kaplan-Meier wait figures in hours: `waits_s` per job (time waited so far for
    those not `started`)."""
    waits_h = np.asarray(waits_s, dtype=np.float64) / 3600.0
    started = np.asarray(started, dtype=bool)
    out: dict[str, Any] = {"jobs": int(len(waits_h)), "still_waiting": int((~started).sum()),
                           "p50_h": None, "p95_h": None, "restricted_mean_h": None, "restricted_to_h": None}
    if len(waits_h) == 0:
        return out
    times, survival = kaplan_meier(waits_h, started)
    longest = float(waits_h.max())
    out.update(p50_h=quantile(times, survival, 0.5), p95_h=quantile(times, survival, 0.95),
               restricted_mean_h=restricted_mean(times, survival, longest), restricted_to_h=longest)
    return out
