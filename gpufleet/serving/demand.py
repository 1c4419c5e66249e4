"""Demand of one service over simulated time: requests/s and tokens per request per interval.

Synthetic demand is a base rate times a curve: hour-of-day and weekday weights (each
normalised to mean 1), compound growth per calendar month, and launch steps. The curve
is piecewise constant (it changes only on the hour, at month starts and at launches),
so its mean over any interval is exact: the integral of a step function.

A request trace gives demand by being laid end to end from the demand's start (one copy
per period = the trace's span, `repeat` times or for ever). The rate of an interval is
the trace's arrivals in it (times `rate_scale`, or scaled so the trace's mean rate is
the base rate), times the curve; its tokens per request are the means of those
arrivals. A one-hour trace thus supplies the minute-scale burstiness and the token mix,
and the curve supplies the day, the week and the months (docs/serving.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from gpufleet import numerics
from gpufleet.errors import InputError, Problem
from gpufleet.spec.serving import DemandSpec, RequestTraceSpec, ServiceSpec
from gpufleet.workload.synthetic import EPOCH, THURSDAY, month_starts, shape_weights

HOUR_S = 3600.0
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class DemandIntervals:
    """Demand per interval [start_s, end_s) (seconds since scenario start).

    Attributes:
        start_s, end_s: interval bounds.
        requests_per_s: mean arrival rate.
        output_tokens_per_request: mean generated tokens of the interval's requests.
        input_tokens_per_request: mean prompt tokens of the interval's requests.
    """

    start_s: np.ndarray
    end_s: np.ndarray
    requests_per_s: np.ndarray
    output_tokens_per_request: np.ndarray
    input_tokens_per_request: np.ndarray

    def __len__(self) -> int:
        return len(self.start_s)

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s

    @property
    def output_tokens_per_s(self) -> np.ndarray:
        """Output tokens/s asked for."""
        return self.requests_per_s * self.output_tokens_per_request

    @property
    def requests(self) -> np.ndarray:
        """Expected arrivals in each interval."""
        return self.requests_per_s * self.duration_s


def grid(start_s: float, end_s: float, step_s: float) -> np.ndarray:
    """Interval edges from start_s to end_s every step_s (the last interval may be shorter)."""
    if end_s <= start_s:
        raise ValueError(f"end {end_s} is not after start {start_s}")
    edges = np.arange(start_s, end_s, step_s, dtype=np.float64)
    return np.append(edges, end_s)


@dataclass(frozen=True, slots=True)
class TraceProfile:
    """A request trace as a periodic pattern, in demand seconds after the demand's start.

    Attributes:
        period_s: one copy's length (the trace's span or window, times time_scale).
        position_s: arrival offsets within a copy, sorted, in [0, period_s).
        output_tokens, input_tokens: the requests' tokens, in the same order.
        repeat: copies laid end to end; None for ever.
        source: the file, for messages.
    """

    period_s: float
    position_s: np.ndarray
    output_tokens: np.ndarray
    input_tokens: np.ndarray
    repeat: int | None
    source: str = ""

    @property
    def requests(self) -> int:
        """Requests in one copy."""
        return len(self.position_s)

    @property
    def mean_rate(self) -> float:
        """Requests/s of the trace as laid out (before rate scaling)."""
        return self.requests / self.period_s

    @classmethod
    def from_arrays(cls, arrival_s: np.ndarray, output_tokens: np.ndarray, input_tokens: np.ndarray,
                    spec: RequestTraceSpec, source: str = "") -> TraceProfile:
        """Window, shift and scale recorded arrivals (any origin) into a profile.

        The period is the window's length, or (without an end) from its start to the last
        arrival: n arrivals per period, so the rate is the trace's own n / span. The last
        arrival, at exactly one period, wraps to the next copy's offset 0.
        """
        arrival = np.asarray(arrival_s, dtype=np.float64)
        if not len(arrival):
            raise InputError([Problem("the request trace has no requests", file=source or None)])
        relative = arrival - arrival.min()
        window = spec.window
        lo = window.start_seconds if window is not None else 0.0
        hi = window.end_seconds if window is not None else None
        keep = relative >= lo
        if hi is not None:
            keep &= relative < hi
        relative = relative[keep] - lo
        if not len(relative):
            raise InputError([Problem("no request of the trace falls in the window", file=source or None)])
        period = (hi - lo) if hi is not None else float(relative.max())
        if period <= 0:
            raise InputError([Problem("the trace's requests all arrive at one instant: it has no rate",
                                      file=source or None)])
        position = np.mod(relative, period) * spec.time_scale
        order = np.argsort(position, kind="stable")
        return cls(period_s=period * spec.time_scale, position_s=position[order],
                   output_tokens=np.asarray(output_tokens, dtype=np.float64)[keep][order],
                   input_tokens=np.asarray(input_tokens, dtype=np.float64)[keep][order],
                   repeat=spec.repeat, source=source)

    def cumulative(self, offset_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrivals, output tokens and input tokens of all copies before each offset."""
        x = np.maximum(np.asarray(offset_s, dtype=np.float64), 0.0)
        if self.repeat is not None:
            x = np.minimum(x, self.repeat * self.period_s)
        copies = np.floor(x / self.period_s)
        inside = np.searchsorted(self.position_s, x - copies * self.period_s, side="left")
        out_cum = np.concatenate([[0.0], np.cumsum(self.output_tokens)])
        in_cum = np.concatenate([[0.0], np.cumsum(self.input_tokens)])
        count = copies * self.requests + inside
        return count, copies * out_cum[-1] + out_cum[inside], copies * in_cum[-1] + in_cum[inside]

    def requests_between(self, lo_s: float, hi_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The trace's own requests at offsets in [lo_s, hi_s): (offset, output tokens, input tokens)."""
        lo, hi = max(lo_s, 0.0), hi_s
        if self.repeat is not None:
            hi = min(hi, self.repeat * self.period_s)
        offsets, outs, ins = [], [], []
        copy = int(np.floor(lo / self.period_s)) if hi > lo else 0
        while hi > lo and copy * self.period_s < hi:
            base = copy * self.period_s
            pick = (self.position_s + base >= lo) & (self.position_s + base < hi)
            offsets.append(self.position_s[pick] + base)
            outs.append(self.output_tokens[pick])
            ins.append(self.input_tokens[pick])
            copy += 1
        if not offsets:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        return np.concatenate(offsets), np.concatenate(outs), np.concatenate(ins)


def load_trace(spec: RequestTraceSpec) -> TraceProfile:
    """Read the trace file a spec names (InputError on a bad file) and lay it out."""
    from gpufleet.traces.formats import ReadOptions, read_trace

    path = Path(spec.path)
    if not path.is_file():
        raise InputError([Problem(f"request trace not found: {path}", file=str(path))])
    options = ReadOptions()
    if spec.format == "generic-requests":
        columns = spec.columns.model_dump() if spec.columns is not None else None
        options = ReadOptions(columns=columns, time_unit=spec.time_unit)
    trace = read_trace(path, spec.format, options)
    return TraceProfile.from_arrays(trace.arrival_s, trace.output_tokens, trace.input_tokens, spec, source=str(path))


class Demand:
    """The demand of one service: `intervals(edges)` gives rates and token means per interval.

    Args:
        spec: the demand section.
        origin: calendar time of simulated second 0 (the scenario start).
        start, end: the service's active window (default: from origin, no end); demand is
            zero outside it, and growth months and the trace count from `start`.
        profile: the laid-out trace, when the spec has one (see `load_trace`).
    """

    def __init__(self, spec: DemandSpec, origin: datetime, start: datetime | None = None,
                 end: datetime | None = None, profile: TraceProfile | None = None) -> None:
        if (spec.trace is None) != (profile is None):
            raise ValueError("a trace demand needs its profile (load_trace), and only a trace demand takes one")
        self.spec = spec
        self.origin = origin
        self.start = start or origin
        self.end = end
        self.profile = profile
        self.start_s = (self.start - origin).total_seconds()
        self.end_s = (end - origin).total_seconds() if end is not None else np.inf
        self._hours = shape_weights(spec.hour_of_day, 24)
        self._days = shape_weights(spec.day_of_week, 7)
        launches = sorted(spec.launches, key=lambda launch: launch.date)
        self._launch_s = np.array([(launch.date - origin).total_seconds() for launch in launches])
        self._launch_factor = np.cumprod([1.0] + [launch.factor for launch in launches])
        # Launch spikes: (start, end, extra factor) while each surge lasts.
        self._surges = [((launch.date - origin).total_seconds(),
                         (launch.date - origin).total_seconds() + launch.surge.days * DAY_S, launch.surge.factor)
                        for launch in launches if launch.surge is not None]

    def curve(self, edges_s: np.ndarray) -> np.ndarray:
        """Mean of the multiplicative curve (shapes x growth x launches x active) over each interval."""
        edges = _edges(edges_s)
        lo, hi = float(edges[0]), float(edges[-1])
        points = [edges[[0, -1]], self._launch_s, [self.start_s, self.end_s],
                  [when for lo_s, hi_s, _ in self._surges for when in (lo_s, hi_s)]]
        shaped = self.spec.hour_of_day is not None or self.spec.day_of_week is not None
        origin_epoch = (self.origin - EPOCH).total_seconds()
        if shaped:
            first_hour = np.ceil((origin_epoch + lo) / HOUR_S) * HOUR_S - origin_epoch
            points.append(np.arange(first_hour, hi, HOUR_S))
        months = self._month_bounds(hi)
        points.append(months)
        breaks = np.unique(np.concatenate([np.asarray(p, dtype=np.float64) for p in points]))
        breaks = breaks[(breaks >= lo) & (breaks <= hi)]
        middle = (breaks[:-1] + breaks[1:]) / 2.0
        value = np.where((middle >= self.start_s) & (middle < self.end_s), 1.0, 0.0)
        if shaped:
            clock = origin_epoch + middle
            hour = (np.floor(clock / HOUR_S) % 24).astype(np.int64)
            weekday = (np.floor(clock / DAY_S).astype(np.int64) + THURSDAY) % 7
            value = value * self._hours[hour] * self._days[weekday]
        if self.spec.monthly_growth:
            month = np.searchsorted(months, middle, side="right")
            value = value * numerics.powers(1.0 + self.spec.monthly_growth, month)
        if len(self._launch_s):
            value = value * self._launch_factor[np.searchsorted(self._launch_s, middle, side="right")]
        for lo_s, hi_s, factor in self._surges:
            value = np.where((middle >= lo_s) & (middle < hi_s), value * factor, value)
        integral = np.concatenate([[0.0], np.cumsum(value * np.diff(breaks))])
        area = np.interp(edges, breaks, integral)
        return np.diff(area) / np.diff(edges)

    def _month_bounds(self, hi_s: float) -> np.ndarray:
        """Seconds of the calendar month starts after the demand's start, up to hi_s."""
        if not self.spec.monthly_growth or hi_s <= self.start_s:
            return np.zeros(0)
        last = self.origin + timedelta(seconds=hi_s)
        starts = month_starts(self.start, last)[1:]
        return np.array([(when - self.origin).total_seconds() for when in starts], dtype=np.float64)

    def intervals(self, edges_s: np.ndarray) -> DemandIntervals:
        """Requests/s and mean tokens per request over each interval [edges[i], edges[i+1])."""
        edges = _edges(edges_s)
        curve = self.curve(edges)
        if self.spec.share != 1.0:  # the share of this demand placed on the fleet
            curve = curve * self.spec.share
        duration = np.diff(edges)
        spec = self.spec
        if self.profile is None:
            rate = spec.base_requests_per_s * curve  # type: ignore[operator]
            out = np.full(len(duration), float(spec.output_tokens_per_request))  # type: ignore[arg-type]
            inp = np.full(len(duration), float(spec.input_tokens_per_request or 0.0))
            return DemandIntervals(edges[:-1], edges[1:], rate, out, inp)
        profile = self.profile
        count, out_sum, in_sum = profile.cumulative(edges - self.start_s)
        arrivals, outs, ins = np.diff(count), np.diff(out_sum), np.diff(in_sum)
        scale = (spec.requests_per_s / profile.mean_rate if spec.requests_per_s is not None
                 else spec.trace.rate_scale)  # type: ignore[union-attr]
        rate = arrivals / duration * scale * curve
        some = arrivals > 0
        # An interval without arrivals asks for nothing; give it the trace's means so the
        # token columns stay defined.
        out = np.where(some, outs / np.where(some, arrivals, 1.0), profile.output_tokens.mean())
        inp = np.where(some, ins / np.where(some, arrivals, 1.0), profile.input_tokens.mean())
        return DemandIntervals(edges[:-1], edges[1:], rate, out, inp)


def _edges(edges_s: np.ndarray) -> np.ndarray:
    edges = np.asarray(edges_s, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("interval edges must be an increasing 1-D array of two or more times")
    return edges


def build_demand(service: ServiceSpec, origin: datetime, end: datetime | None = None) -> Demand:
    """The demand of a service in a scenario starting at `origin` (reads its trace, if any).

    `end` is the scenario end, used when the service sets none.
    """
    profile = load_trace(service.demand.trace) if service.demand.trace is not None else None
    return Demand(service.demand, origin, start=service.start or origin, end=service.end or end, profile=profile)
