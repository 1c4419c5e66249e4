"""Synthetic training jobs: Poisson arrivals growing by calendar month (optionally shaped
by hour of day and weekday), a size mixture, and a run-time distribution per size component."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

import numpy as np

from gpufleet import numerics
from gpufleet.errors import InputError, Problem
from gpufleet.fleet.flavors import with_providers
from gpufleet.rng import stream
from gpufleet.spec.workload import DurationDist, DurationSpec, Estimate, SyntheticSpec
from gpufleet.traces.formats import read_trace
from gpufleet.workload.estimates import planned_run_s
from gpufleet.workload.jobs import JobColumns

HOUR_S = 3600.0
EPOCH = datetime(1970, 1, 1)
THURSDAY = 3
"""1970-01-01 was a Thursday (weekday 3 with Monday = 0)."""


def month_starts(first: datetime, last: datetime) -> list[datetime]:
    """`first`, then the first instant of every calendar month after it, up to `last`."""
    points = [first]
    year, month = first.year, first.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        boundary = datetime(year, month, 1)
        if boundary >= last:
            return points
        points.append(boundary)


def arrival_times(spec: SyntheticSpec, first: datetime, last: datetime, origin: datetime,
                  rng: np.random.Generator) -> np.ndarray:
    """Seconds since `origin` of Poisson arrivals in [first, last), rate growing monthly."""
    if spec.arrivals.shaped:
        return shaped_arrival_times(spec, first, last, origin, rng)
    bounds = month_starts(first, last) + [last]
    chunks = []
    for month, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        rate_per_s = spec.arrivals.rate_per_day * (1.0 + spec.arrivals.monthly_growth) ** month / 86400.0
        lo_s, hi_s = (lo - origin).total_seconds(), (hi - origin).total_seconds()
        count = rng.poisson(rate_per_s * (hi_s - lo_s))
        chunks.append(np.sort(rng.uniform(lo_s, hi_s, size=count)))
    return np.concatenate(chunks) if chunks else np.zeros(0)


def shape_weights(weights: list[float] | None, length: int) -> np.ndarray:
    """Relative rate weights normalised to mean 1 (flat when None)."""
    if weights is None:
        return np.ones(length)
    values = np.asarray(weights, dtype=np.float64)
    return values * (length / values.sum())


def shaped_arrival_times(spec: SyntheticSpec, first: datetime, last: datetime, origin: datetime,
                         rng: np.random.Generator) -> np.ndarray:
    """Seconds since `origin` of a non-homogeneous Poisson process in [first, last).

    The rate is constant within each clock hour (hour-of-day and weekday weights) and
    each calendar month (growth), so the process is exact piece by piece: a Poisson
    count per piece, then uniform times within it.
    """
    first_s, last_s = (first - origin).total_seconds(), (last - origin).total_seconds()
    if last_s <= first_s:
        return np.zeros(0)
    origin_epoch = (origin - EPOCH).total_seconds()
    months = np.array([(start - origin).total_seconds() for start in month_starts(first, last)])
    first_hour = np.ceil((origin_epoch + first_s) / 3600.0) * 3600.0 - origin_epoch
    edges = np.unique(np.concatenate([[first_s], np.arange(first_hour, last_s, 3600.0), months[1:], [last_s]]))
    lo, hi = edges[:-1], edges[1:]
    # Classify each piece by its midpoint: pieces never straddle an hour or month boundary.
    middle = origin_epoch + (lo + hi) / 2.0
    hour = (np.floor(middle / 3600.0) % 24).astype(np.int64)
    weekday = (np.floor(middle / 86400.0).astype(np.int64) + THURSDAY) % 7
    month = np.searchsorted(months, (lo + hi) / 2.0, side="right") - 1
    arrivals = spec.arrivals
    rate_per_s = (arrivals.rate_per_day / 86400.0 * numerics.powers(1.0 + arrivals.monthly_growth, month)
                  * shape_weights(arrivals.hour_of_day, 24)[hour] * shape_weights(arrivals.day_of_week, 7)[weekday])
    counts = rng.poisson(rate_per_s * (hi - lo))
    offsets = rng.uniform(size=int(counts.sum()))
    times = np.repeat(lo, counts) + offsets * np.repeat(hi - lo, counts)
    return np.sort(times)


_FLOOR_H = 1.0 / 3600.0


def draw_durations_s(spec: DurationSpec, count: int, rng: np.random.Generator) -> np.ndarray:
    """Run times in seconds from a duration spec."""
    if spec.dist is DurationDist.lognormal:
        assert spec.median_hours is not None and spec.sigma is not None
        return spec.median_hours * HOUR_S * rng.lognormal(0.0, spec.sigma, count)
    if spec.dist is DurationDist.exponential:
        assert spec.mean_hours is not None
        return rng.exponential(spec.mean_hours * HOUR_S, size=count)
    if spec.dist is DurationDist.quantiles:
        assert spec.quantiles_hours is not None
        probabilities = np.array(sorted(spec.quantiles_hours))
        hours = np.array([spec.quantiles_hours[p] for p in probabilities])
        logs = numerics.log(np.maximum(hours, _FLOOR_H))  # log-linear between quantiles; zero taken as one second
        return numerics.exp(np.interp(rng.uniform(size=count), probabilities, logs)) * HOUR_S
    if spec.dist is DurationDist.trace:
        assert spec.path is not None and spec.format is not None
        values = trace_run_times_s(spec.path, spec.format)
        return values[rng.integers(0, len(values), size=count)]
    assert spec.hours is not None
    return np.full(count, spec.hours * HOUR_S)


def trace_run_times_s(path: str, format_name: str) -> np.ndarray:
    """The finite run times of a job trace (zero taken as one second), read once per file version."""
    file = Path(path)
    try:
        stat = file.stat()
    except OSError:
        raise InputError([Problem("trace file not found (duration dist trace)", file=path)]) from None
    values = _run_times(str(file), format_name, stat.st_mtime_ns, stat.st_size)
    if not len(values):
        raise InputError([Problem("the trace has no run times to draw from", file=path)])
    return values


@functools.lru_cache(maxsize=8)
def _run_times(path: str, format_name: str, mtime_ns: int, size: int) -> np.ndarray:
    del mtime_ns, size  # Unused: part of the cache key, so an edited file is read again.
    trace = read_trace(path, format_name)
    run = trace.duration_s[np.isfinite(trace.duration_s)]
    return np.maximum(run, 1.0)


def generate(spec: SyntheticSpec, start: datetime, end: datetime, seed: int,
             estimate: Estimate = Estimate.time_limit) -> JobColumns:
    """Draw the generator's jobs over [spec.start or start, spec.end or end); `estimate` is
    the scheduler's estimate mode, used unless the spec names its own."""
    first, last = spec.start or start, min(spec.end or end, end)
    prefix = f"workload/{spec.name}"
    submit = arrival_times(spec, first, last, start, stream(seed, f"{prefix}/arrivals"))
    count = len(submit)
    weights = np.array([component.weight for component in spec.sizes])
    component = stream(seed, f"{prefix}/sizes").choice(len(spec.sizes), size=count, p=weights / weights.sum())
    gpus = np.array([c.gpus for c in spec.sizes], dtype=np.int64)[component]
    group_caps = np.array([c.group_size or spec.group_size for c in spec.sizes], dtype=np.int64)
    group = np.minimum(gpus, group_caps[component])
    within = np.array([c.within_block for c in spec.sizes], dtype=bool)[component]
    duration = np.empty(count)
    durations_rng = stream(seed, f"{prefix}/durations")
    for index, size in enumerate(spec.sizes):
        # Draw every component's full-length sequence so one component's count
        # does not shift another's draws.
        picked = component == index
        duration[picked] = draw_durations_s(size.duration, count, durations_rng)[picked]
    limit = np.full(count, spec.time_limit_hours * HOUR_S if spec.time_limit_hours else np.inf)
    estimate = planned_run_s(duration, limit, spec.estimate or estimate)
    return JobColumns(
        workload=spec.name,
        submit_s=submit,
        gpus=gpus,
        group=group,
        within_block=within,
        duration_s=duration,
        time_limit_s=limit,
        estimate_s=estimate,
        team=[spec.team or spec.name] * count,
        flavors=with_providers(spec.flavors, spec.providers),
    )
