"""Fit the synthetic generator to a job trace, and measure how well it reproduces it.

The fitted workload has the generator's form (`workload.synthetic`):

- arrivals: a Poisson process whose rate grows by a constant factor per calendar month,
  shaped by hour of day and weekday (normalised to mean 1); growth and shapes by Poisson
  maximum likelihood, fitted in turn (`fit_arrivals`); the base rate makes the expected
  count over the trace equal the observed count;
- sizes: one component per distinct GPU count (the `max_sizes` most common; rarer
  counts join the nearest kept one on a log scale), weighted by its share of jobs;
- run times: a lognormal per component, by maximum likelihood (median = geometric
  mean, sigma = standard deviation of log run time; zero run times are left out of the
  fit, as a lognormal has none).

Goodness of fit is the Kolmogorov-Smirnov distance of each distribution, model against
trace; the round trip regenerates jobs from the fitted workload over the trace's span
and measures the same distances, sample against trace.

Traces without calendar dates are placed on 2024-01-01, a Monday: trace hour 0 is
midnight UTC and trace day 0 a Monday.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from gpufleet import numerics
from gpufleet.errors import InputError, Problem
from gpufleet.spec.workload import GpuSharing, SyntheticSpec
from gpufleet.traces import ks
from gpufleet.traces.tables import JobTrace
from gpufleet.workload.synthetic import EPOCH, THURSDAY, generate, month_starts, shape_weights
from gpufleet.workload.trace import largest_divisor_at_most

REFERENCE = datetime(2024, 1, 1)  # a Monday
HOUR_S, DAY_S, WEEK_S = 3600.0, 86400.0, 7 * 86400.0
MIN_JOBS = 10
ARRIVAL_KS_WARN = 0.05


@dataclass
class FitOptions:
    """Choices of the fit.

    Attributes:
        name: workload name.
        team: team of the generated jobs.
        max_sizes: most size components; rarer GPU counts join the nearest kept one.
        group_size: NVLink group cap; each component takes the largest divisor of its GPUs.
        shape: fit hour-of-day and weekday shapes.
        growth: fit monthly growth.
        gpu_sharing: GPU-sharing pods count as one whole GPU, or are left out.
        seed: seed of the round-trip regeneration.
        window_days: fit only jobs submitted in [start, end) days after the trace's first
            arrival (end None: to the last).
    """

    name: str = "fitted"
    team: str | None = None
    max_sizes: int = 12
    group_size: int = 8
    shape: bool = True
    growth: bool = True
    gpu_sharing: GpuSharing = GpuSharing.whole_gpu
    seed: int = 0
    window_days: tuple[float, float | None] | None = None


@dataclass
class FitResult:
    """The fitted workload and its goodness of fit."""

    spec: SyntheticSpec
    jobs: int
    span_days: float
    start: datetime
    calendar: bool
    left_out: dict[str, int]
    folded_jobs: int
    zero_durations: int
    goodness: dict[str, Any]
    round_trip: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    """The workload as written in YAML (the fields the fit chose, in a readable order)."""

    def to_dict(self) -> dict[str, Any]:
        return {"jobs": self.jobs, "span_days": self.span_days, "start": self.start.isoformat(),
                "calendar": self.calendar, "left_out": self.left_out, "folded_jobs": self.folded_jobs,
                "zero_durations": self.zero_durations, "goodness": self.goodness, "round_trip": self.round_trip,
                "notes": self.notes, "workload": {"synthetic": self.data}}


@dataclass
class _Jobs:
    """The trace's jobs as the fit sees them: seconds since `start`, GPUs, run times."""

    start: datetime
    t: np.ndarray
    gpus: np.ndarray
    duration_s: np.ndarray


def select(trace: JobTrace, options: FitOptions) -> tuple[_Jobs, dict[str, int]]:
    """GPU jobs that ran, with times on a calendar (see the module docstring)."""
    if not trace.has_submit or not trace.has_gpus:
        raise InputError([Problem("fitting needs submit times and GPU counts (map the submit and gpus columns)",
                                  file=trace.report.path)])
    left_out: dict[str, int] = {}
    keep = np.isfinite(trace.submit_s)

    def drop(mask: np.ndarray, reason: str) -> None:
        nonlocal keep
        if (keep & mask).any():
            left_out[reason] = int((keep & mask).sum())
        keep = keep & ~mask

    if options.window_days is not None and keep.any():
        origin = float(trace.submit_s[keep].min())
        lo, hi = options.window_days
        relative = (trace.submit_s - origin) / DAY_S
        drop((relative < lo) | (relative >= (hi if hi is not None else math.inf)), "submitted outside the window")
    drop(trace.gpus == 0, "CPU-only job")
    drop(~np.isfinite(trace.duration_s), "never ran (no run time)")
    if options.gpu_sharing is GpuSharing.skip:
        drop((trace.gpus == 1) & (trace.gpu_share < 1.0), "GPU-sharing pod (--gpu-sharing skip)")
    if int(keep.sum()) < MIN_JOBS:
        raise InputError([Problem(f"only {int(keep.sum())} jobs to fit (need {MIN_JOBS} or more)",
                                  file=trace.report.path)])
    submit = trace.submit_s[keep]
    first = float(submit.min())
    if not float(submit.max()) > first:
        raise InputError([Problem("every job arrives at the same instant: there is no arrival rate to fit",
                                  file=trace.report.path)])
    if trace.calendar:
        start = EPOCH + timedelta(seconds=first)
    else:
        start = REFERENCE + timedelta(seconds=first - math.floor(first / WEEK_S) * WEEK_S)
    return _Jobs(start, submit - first, trace.gpus[keep], trace.duration_s[keep]), left_out


def _pieces(start: datetime, span_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clock-hour pieces of [0, span_s] after `start`: lo, hi, labels (rows: hour, weekday,
    month) and the month starts (seconds after `start`)."""
    end = start + timedelta(seconds=span_s)
    months = np.array([(when - start).total_seconds() for when in month_starts(start, end)])
    start_epoch = (start - EPOCH).total_seconds()
    first_hour = math.ceil(start_epoch / HOUR_S) * HOUR_S - start_epoch
    edges = np.unique(np.concatenate([[0.0], np.arange(first_hour, span_s, HOUR_S), months[1:], [span_s]]))
    lo, hi = edges[:-1], edges[1:]
    middle = start_epoch + (lo + hi) / 2.0
    hour = (np.floor(middle / HOUR_S) % 24).astype(np.int64)
    weekday = (np.floor(middle / DAY_S).astype(np.int64) + THURSDAY) % 7
    month = np.searchsorted(months, (lo + hi) / 2.0, side="right") - 1
    return lo, hi, np.stack([hour, weekday, month]), months


def _labels(start: datetime, t: np.ndarray, months: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    epoch = (start - EPOCH).total_seconds() + t
    hour = (np.floor(epoch / HOUR_S) % 24).astype(np.int64)
    weekday = (np.floor(epoch / DAY_S).astype(np.int64) + THURSDAY) % 7
    month = np.searchsorted(months, t, side="right") - 1
    return hour, weekday, month


def fit_growth(counts: np.ndarray, exposure_days: np.ndarray) -> float:
    """Monthly growth g of a rate a (1 + g)^m by maximum likelihood over monthly counts and exposures.

    The likelihood's stationary point equates the observed mean month index of arrivals
    with the expected one, which increases with g, so bisection on log(1 + g) finds it.
    """
    months = np.arange(len(counts), dtype=np.float64)
    target = float((counts * months).sum() / counts.sum())

    def expected(log_factor: float) -> float:
        weights = exposure_days * numerics.exp(log_factor * months)
        return float((weights * months).sum() / weights.sum())

    lo, hi = math.log(0.05), math.log(20.0)
    if expected(lo) >= target:
        return math.exp(lo) - 1.0
    if expected(hi) <= target:
        return math.exp(hi) - 1.0
    for _ in range(100):
        mid = (lo + hi) / 2.0
        if expected(mid) < target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2.0) - 1.0


def fit_arrivals(jobs: _Jobs, options: FitOptions, notes: list[str]) -> dict[str, Any]:
    """The `arrivals:` mapping of the fitted workload.

    Each of the three factors (monthly growth, hour-of-day shape, weekday shape) is fitted
    by Poisson maximum likelihood with the other two held, in turn, five rounds (each
    step raises the likelihood): a shape weight is the arrivals in its hour (or weekday)
    over the exposure there, weighted by the other factors; the growth compares monthly
    counts with each month's exposure weighted by the shapes (a month with more weekend
    days expects fewer arrivals). Every arrival counts once, however early or late.
    """
    span_s = float(jobs.t.max())
    lo, hi, (piece_hour, piece_day, piece_month), months = _pieces(jobs.start, span_s)
    length = hi - lo
    hour, weekday, month = _labels(jobs.start, jobs.t, months)
    n_months = len(months)
    month_counts = np.bincount(month, minlength=n_months).astype(np.float64)
    hour_counts = np.bincount(hour, minlength=24).astype(np.float64)
    day_counts = np.bincount(weekday, minlength=7).astype(np.float64)
    fit_hours = options.shape and span_s >= DAY_S
    fit_days = options.shape and span_s >= WEEK_S
    fit_trend = options.growth and n_months >= 2
    if options.shape and not fit_hours:
        notes.append("hour-of-day shape not fitted: the trace spans less than a day")
    if options.shape and not fit_days:
        notes.append("weekday shape not fitted: the trace spans less than a week")
    if options.growth and not fit_trend:
        notes.append("growth not fitted: the trace spans less than two calendar months")
    growth = 0.0
    hour_shape: list[float] | None = None
    day_shape: list[float] | None = None
    for _ in range(5):
        trend = numerics.powers(1.0 + growth, piece_month)
        if fit_hours:
            exposure = np.bincount(piece_hour, weights=length * trend * shape_weights(day_shape, 7)[piece_day],
                                   minlength=24)
            hour_shape = _normalised(hour_counts / np.where(exposure > 0, exposure, np.inf))
        if fit_days:
            exposure = np.bincount(piece_day, weights=length * trend * shape_weights(hour_shape, 24)[piece_hour],
                                   minlength=7)
            day_shape = _normalised(day_counts / np.where(exposure > 0, exposure, np.inf))
        if fit_trend:
            shaped = length * shape_weights(hour_shape, 24)[piece_hour] * shape_weights(day_shape, 7)[piece_day]
            growth = fit_growth(month_counts, np.bincount(piece_month, weights=shaped, minlength=n_months) / DAY_S)
    relative = (numerics.powers(1.0 + growth, piece_month) * shape_weights(hour_shape, 24)[piece_hour]
                * shape_weights(day_shape, 7)[piece_day])
    # Base rate: the expected count over the observed span equals the observed count.
    rate_per_day = len(jobs.t) / float((relative * length).sum()) * DAY_S
    arrivals: dict[str, Any] = {"rate_per_day": _round(rate_per_day), "monthly_growth": round(growth, 6)}
    if hour_shape is not None:
        arrivals["hour_of_day"] = hour_shape
    if day_shape is not None:
        arrivals["day_of_week"] = day_shape
    return arrivals


def _normalised(rate: np.ndarray) -> list[float]:
    if rate.sum() <= 0:
        return [1.0] * len(rate)
    return [round(float(value), 4) for value in rate * (len(rate) / rate.sum())]


def _round(value: float, digits: int = 6) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def fit_sizes(jobs: _Jobs, options: FitOptions) -> tuple[list[dict[str, Any]], np.ndarray, int, int]:
    """Size components with their lognormal run times; also each job's component and the counts
    of folded jobs and of zero run times left out of the fits."""
    values, counts = np.unique(jobs.gpus, return_counts=True)
    order = sorted(range(len(values)), key=lambda k: (-counts[k], values[k]))
    kept = np.sort(values[order[: options.max_sizes]])
    logs = numerics.log(kept.astype(np.float64))
    nearest = np.abs(numerics.log(jobs.gpus.astype(np.float64))[:, None] - logs[None, :])
    # On a tie, the larger size (argmin of the reversed columns).
    component = len(kept) - 1 - np.argmin(nearest[:, ::-1], axis=1)
    folded = int((kept[component] != jobs.gpus).sum())
    groups = largest_divisor_at_most(kept, options.group_size)
    sizes, zeros = [], 0
    for index, gpus in enumerate(kept.tolist()):
        durations = jobs.duration_s[component == index]
        positive = durations[durations > 0]
        zeros += len(durations) - len(positive)
        if len(positive):
            logs_d = numerics.log(positive)
            duration = {"dist": "lognormal", "median_hours": _round(math.exp(float(logs_d.mean())) / HOUR_S),
                        "sigma": round(float(logs_d.std()), 4)}
        else:
            duration = {"dist": "fixed", "hours": _round(1.0 / HOUR_S)}
        size = {"gpus": int(gpus), "weight": _round(float((component == index).mean())), "duration": duration}
        if int(groups[index]) != min(int(gpus), options.group_size):
            size["group_size"] = int(groups[index])
        sizes.append(size)
    return sizes, component, folded, zeros


def fit(trace: JobTrace, options: FitOptions | None = None) -> FitResult:
    """Fit the synthetic generator to `trace` and measure the fit (see the module docstring)."""
    options = options or FitOptions()
    jobs, left_out = select(trace, options)
    notes: list[str] = []
    if not trace.calendar:
        notes.append("the trace has no calendar dates: its hour 0 is taken as midnight UTC and its day 0 as a Monday")
    arrivals = fit_arrivals(jobs, options, notes)
    sizes, component, folded, zeros = fit_sizes(jobs, options)
    if folded:
        notes.append(f"{folded:,} jobs of rare sizes joined the nearest of the {len(sizes)} kept sizes")
    if zeros:
        notes.append(f"{zeros:,} zero run times left out of the lognormal fits")
    data: dict[str, Any] = {"name": options.name}
    if options.team:
        data["team"] = options.team
    data.update({"arrivals": arrivals, "group_size": options.group_size, "sizes": sizes})
    spec = SyntheticSpec.model_validate(data)
    span_s = float(jobs.t.max())
    goodness = _goodness(jobs, spec, component)
    round_trip = _round_trip(jobs, spec, options.seed)
    if goodness["arrival_time"] > ARRIVAL_KS_WARN:
        notes.append(f"arrival times fit loosely (KS {goodness['arrival_time']:.2f}): the rate changes more than "
                     "a steady monthly growth describes; a --window over steady weeks fits better")
    if options.growth and span_s < 90 * DAY_S and arrivals["monthly_growth"] != 0:
        notes.append(f"monthly growth fitted over {span_s / DAY_S:.0f} days only: check it before a long horizon "
                     "(set monthly_growth: 0 for a steady rate)")
    return FitResult(spec, len(jobs.t), span_s / DAY_S, jobs.start, trace.calendar, left_out, folded, zeros,
                     goodness, round_trip, notes, data)


def _expected_profile(spec: SyntheticSpec, start: datetime, span_s: float) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray, np.ndarray]:
    """Model intensity per piece: (lo, hi, expected arrivals, labels) over [0, span_s]."""
    lo, hi, labels, _ = _pieces(start, span_s)
    arrivals = spec.arrivals
    rate = (arrivals.rate_per_day / DAY_S * numerics.powers(1.0 + arrivals.monthly_growth, labels[2])
            * shape_weights(arrivals.hour_of_day, 24)[labels[0]] * shape_weights(arrivals.day_of_week, 7)[labels[1]])
    return lo, hi, rate * (hi - lo), labels


def _goodness(jobs: _Jobs, spec: SyntheticSpec, component: np.ndarray) -> dict[str, Any]:
    """KS distance, model against trace, for each fitted distribution."""
    span_s = float(jobs.t.max())
    lo, hi, expected, labels = _expected_profile(spec, jobs.start, span_s)
    months = np.array([(when - jobs.start).total_seconds()
                       for when in month_starts(jobs.start, jobs.start + timedelta(seconds=span_s))])
    hour, weekday, _ = _labels(jobs.start, jobs.t, months)
    cumulative = np.concatenate([[0.0], np.cumsum(expected)])
    edges = np.concatenate([lo, hi[-1:]])

    def arrival_cdf(t: np.ndarray) -> np.ndarray:
        return np.interp(t, edges, cumulative) / cumulative[-1]

    weights = np.array([size.weight for size in spec.sizes])
    kept = np.array([size.gpus for size in spec.sizes], dtype=np.float64)
    model_sizes = np.repeat(kept, np.maximum(1, np.rint(weights / weights.sum() * 1e6)).astype(np.int64))
    cdfs = [_duration_cdf(size.duration) for size in spec.sizes]
    shares = weights / weights.sum()

    def mixture(x: np.ndarray) -> np.ndarray:
        return sum(share * cdf(x) for share, cdf in zip(shares, cdfs, strict=True))

    per_size = {str(size.gpus): {"jobs": int((component == k).sum()),
                                 "ks": ks.ks_one_sample(jobs.duration_s[component == k], cdfs[k])}
                for k, size in enumerate(spec.sizes)}
    return {
        "arrival_time": ks.ks_one_sample(jobs.t, arrival_cdf),
        "hour_of_day": ks.ks_discrete(np.bincount(hour, minlength=24), np.bincount(labels[0], weights=expected,
                                                                                   minlength=24)),
        "day_of_week": ks.ks_discrete(np.bincount(weekday, minlength=7), np.bincount(labels[1], weights=expected,
                                                                                   minlength=7)),
        "gpus": ks.ks_two_sample(jobs.gpus.astype(np.float64), model_sizes),
        "duration": ks.ks_one_sample(jobs.duration_s, mixture),
        "duration_by_size": per_size,
    }


def _duration_cdf(duration: Any) -> Any:
    if duration.dist.value == "lognormal":
        return ks.lognormal_cdf(duration.median_hours * HOUR_S, duration.sigma)
    if duration.dist.value == "exponential":
        mean = duration.mean_hours * HOUR_S
        return lambda x: 1.0 - numerics.exp(-np.maximum(np.asarray(x, dtype=np.float64), 0.0) / mean)
    value = duration.hours * HOUR_S
    return lambda x: (np.asarray(x, dtype=np.float64) >= value).astype(np.float64)


def regenerate(spec: SyntheticSpec, start: datetime, span_s: float, seed: int) -> Any:
    """Jobs of the fitted workload over [start, start + span] (the round trip's sample)."""
    return generate(spec, start, start + timedelta(seconds=span_s), seed)


def _round_trip(jobs: _Jobs, spec: SyntheticSpec, seed: int) -> dict[str, Any]:
    """Regenerate over the trace's span; KS distance of each distribution, sample against trace."""
    span_s = float(jobs.t.max())
    sample = regenerate(spec, jobs.start, span_s, seed)
    months = np.array([(when - jobs.start).total_seconds()
                       for when in month_starts(jobs.start, jobs.start + timedelta(seconds=span_s))])
    hour_t, day_t, _ = _labels(jobs.start, jobs.t, months)
    hour_s, day_s, _ = _labels(jobs.start, sample.submit_s, months)
    n, m = len(jobs.t), len(sample.submit_s)
    return {
        "seed": seed,
        "jobs_trace": n,
        "jobs_generated": m,
        "count_ratio": m / n if n else math.nan,
        "ks": {
            "arrival_time": ks.ks_two_sample(jobs.t, sample.submit_s),
            "interarrival": ks.ks_two_sample(np.diff(np.sort(jobs.t)), np.diff(sample.submit_s)),
            "hour_of_day": ks.ks_two_sample(hour_t.astype(np.float64), hour_s.astype(np.float64)),
            "day_of_week": ks.ks_two_sample(day_t.astype(np.float64), day_s.astype(np.float64)),
            "gpus": ks.ks_two_sample(jobs.gpus.astype(np.float64), sample.gpus.astype(np.float64)),
            "duration": ks.ks_two_sample(jobs.duration_s, sample.duration_s),
        },
        "ks_noise_p99": ks.critical_value(n, m, alpha=0.01) if m else math.nan,
    }
