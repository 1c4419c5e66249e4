"""Request-level mode: individual requests through the ready slots of one service.

For a short window (hours), to check the interval model against requests one by one.
Requests arrive (Poisson at the demand's rate, or a trace's own requests), wait in one
FIFO queue, and each takes a free slot of a ready replica; the number of slots is a
step function of time (ready replicas x slots per replica). A request with L output
tokens holds its slot for L / r seconds, r the SLO's decode speed per request (the same
assumption as the interval model: input tokens do not take slot time). A request that
has waited `abandon_after_s` gives up. When slots are taken away, requests in service
finish; no new one starts until fewer are busy than the new count.

The event loop is a heap of completion times plus two sorted streams (arrivals and
capacity changes); ties are taken completions first, then capacity changes, then
arrivals. `summarise` turns the requests into the interval model's table.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gpufleet.serving.demand import Demand, DemandIntervals
from gpufleet.serving.queueing import IntervalMetrics


@dataclass(frozen=True, slots=True)
class RequestRun:
    """Every request of a request-level run, in arrival order.

    Attributes:
        arrival_s: arrival time.
        output_tokens, input_tokens: the request's tokens.
        start_s: when it got a slot (NaN if it gave up).
        end_s: when it finished (NaN if it gave up).
        wait_s: start - arrival, or the patience for those that gave up.
        served: whether it got a slot.
    """

    arrival_s: np.ndarray
    output_tokens: np.ndarray
    input_tokens: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    wait_s: np.ndarray
    served: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival_s)


def poisson_requests(demand: DemandIntervals, rng: np.random.Generator,
                     tokens: Literal["exponential", "fixed"] = "exponential"
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson arrivals at each interval's rate, with output tokens drawn around its mean.

    `exponential`: output tokens exponential with the interval's mean (continuous, so
    service times are exponential: the M/M/c assumption); `fixed`: exactly the mean.
    Input tokens are the interval's mean.

    Returns:
        (arrival_s sorted, output_tokens, input_tokens).
    """
    counts = rng.poisson(demand.requests_per_s * demand.duration_s)
    arrival = np.repeat(demand.start_s, counts) + rng.uniform(size=int(counts.sum())) * np.repeat(
        demand.duration_s, counts)
    order = np.argsort(arrival, kind="stable")
    mean_out = np.repeat(demand.output_tokens_per_request, counts)[order]
    out = rng.exponential(size=len(arrival)) * mean_out if tokens == "exponential" else mean_out
    return arrival[order], out, np.repeat(demand.input_tokens_per_request, counts)[order]


def trace_requests(demand: Demand, lo_s: float, hi_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The trace's own requests arriving in [lo_s, hi_s) (seconds since scenario start).

    The trace as laid out (window, time_scale, repeat); rate scaling and the curve are
    not applied (they change rates, not requests): use `poisson_requests` for those.
    """
    if demand.profile is None:
        raise ValueError("this demand has no trace")
    offset, out, inp = demand.profile.requests_between(lo_s - demand.start_s, hi_s - demand.start_s)
    arrival = offset + demand.start_s
    keep = (arrival >= demand.start_s) & (arrival < demand.end_s)
    return arrival[keep], out[keep], inp[keep]


def serve_requests(arrival_s: np.ndarray, output_tokens: np.ndarray, input_tokens: np.ndarray | None = None, *,
                   slot_edges_s: np.ndarray, slots: np.ndarray, tokens_per_s_per_request: float,
                   abandon_after_s: float) -> RequestRun:
    """FIFO service of the requests by the slots (see the module docstring).

    Args:
        arrival_s: arrival times, sorted.
        output_tokens: each request's output tokens.
        input_tokens: each request's input tokens (reported only); default zeros.
        slot_edges_s: edges of the intervals of `slots` (len(slots) + 1 of them); before
            the first edge the first count holds, after the last the last one.
        slots: ready slots in each interval.
        tokens_per_s_per_request: decode speed r.
        abandon_after_s: patience.
    """
    arrival = np.asarray(arrival_s, dtype=np.float64)
    n = len(arrival)
    if n and np.any(np.diff(arrival) < 0):
        raise ValueError("arrivals must be sorted")
    service = (np.asarray(output_tokens, dtype=np.float64) / tokens_per_s_per_request).tolist()
    counts = np.floor(np.asarray(slots, dtype=np.float64)).astype(np.int64)
    edges = np.asarray(slot_edges_s, dtype=np.float64)
    if len(edges) != len(counts) + 1:
        raise ValueError(f"{len(edges)} edges for {len(counts)} slot counts")
    change = np.flatnonzero(np.diff(counts)) + 1
    change_times, change_slots = edges[change].tolist(), counts[change].tolist()
    times = arrival.tolist()
    start = [math.nan] * n
    end = [math.nan] * n
    patience = float(abandon_after_s)
    capacity = int(counts[0]) if len(counts) else 0
    busy = 0
    heap: list[float] = []
    queue: deque[int] = deque()
    i = m = 0
    inf = math.inf
    while True:
        next_arrival = times[i] if i < n else inf
        next_done = heap[0] if heap else inf
        next_change = change_times[m] if m < len(change_times) else inf
        if next_done <= next_change and next_done <= next_arrival:
            if next_done == inf:
                break
            now = heapq.heappop(heap)
            busy -= 1
        elif next_change <= next_arrival:
            now = next_change
            capacity = change_slots[m]
            m += 1
        else:
            now = next_arrival
            if busy < capacity and not queue:
                start[i] = now
                done = now + service[i]
                end[i] = done
                heapq.heappush(heap, done)
                busy += 1
            else:
                queue.append(i)
            i += 1
            continue
        while queue and busy < capacity:
            j = queue.popleft()
            if now - times[j] > patience:
                continue  # gave up at times[j] + patience, before this slot freed
            start[j] = now
            done = now + service[j]
            end[j] = done
            heapq.heappush(heap, done)
            busy += 1
    # Whoever is still queued when nothing is left to happen (no slots) gives up.
    start_a = np.array(start)
    served = ~np.isnan(start_a)
    wait = np.where(served, start_a - arrival, patience)
    inputs = np.zeros(n) if input_tokens is None else np.asarray(input_tokens, dtype=np.float64)
    return RequestRun(arrival, np.asarray(output_tokens, dtype=np.float64), inputs, start_a, np.array(end), wait,
                      served)


def summarise(run: RequestRun, edges_s: np.ndarray, slots: np.ndarray, *, tokens_per_s_per_request: float,
              wait_target_s: float, abandon_after_s: float) -> IntervalMetrics:
    """The interval model's table, counted from the requests.

    Waits (p_wait, mean_wait_s, within_target) and the demand columns are by arrival
    interval; served requests and input tokens by completion; served output tokens are
    r x busy slot-seconds in the interval; drops by the time they gave up; the backlog is
    the number waiting at the interval's end.
    """
    r = float(tokens_per_s_per_request)
    edges = np.asarray(edges_s, dtype=np.float64)
    c = np.floor(np.asarray(slots, dtype=np.float64))
    bins = len(edges) - 1
    duration = np.diff(edges)
    which = np.searchsorted(edges, run.arrival_s, side="right") - 1
    inside = (which >= 0) & (which < bins)
    w = which[inside]

    def total(values: np.ndarray, index: np.ndarray = w, mask: np.ndarray = inside) -> np.ndarray:
        return np.bincount(index, weights=values[mask], minlength=bins)[:bins]

    arrivals = np.bincount(w, minlength=bins)[:bins].astype(np.float64)
    some = np.maximum(arrivals, 1.0)
    out_mean = np.divide(total(run.output_tokens), arrivals, out=np.zeros(bins), where=arrivals > 0)
    in_mean = np.divide(total(run.input_tokens), arrivals, out=np.zeros(bins), where=arrivals > 0)
    waited = (run.wait_s > 0).astype(np.float64)
    within = (run.served & (run.wait_s <= wait_target_s)).astype(np.float64)
    served = run.served
    done_bin = np.searchsorted(edges, run.end_s[served], side="right") - 1
    done_in = (done_bin >= 0) & (done_bin < bins)
    gave_up = ~served
    quit_bin = np.searchsorted(edges, run.arrival_s[gave_up] + abandon_after_s, side="right") - 1
    quit_in = (quit_bin >= 0) & (quit_bin < bins)
    busy = np.diff(_busy_integral(run.start_s[served], run.end_s[served], edges))
    waiting_end = _waiting_at(run.arrival_s, run.wait_s, edges[1:])
    capacity_work = c * duration
    mean_service = out_mean / r
    return IntervalMetrics(
        start_s=edges[:-1], end_s=edges[1:], slots=c, demand_rps=arrivals / duration,
        output_tokens_per_request=out_mean, input_tokens_per_request=in_mean,
        offered_load=arrivals / duration * mean_service, capacity_rps=np.divide(
            c, mean_service, out=np.zeros(bins), where=mean_service > 0), capacity_tokens_per_s=c * r,
        served_requests=np.bincount(done_bin[done_in], minlength=bins)[:bins].astype(np.float64),
        served_output_tokens=busy * r,
        served_input_tokens=np.bincount(done_bin[done_in], weights=run.input_tokens[served][done_in],
                                        minlength=bins)[:bins],
        dropped_requests=np.bincount(quit_bin[quit_in], minlength=bins)[:bins].astype(np.float64),
        dropped_output_tokens=np.bincount(quit_bin[quit_in], weights=run.output_tokens[gave_up][quit_in],
                                          minlength=bins)[:bins],
        backlog_requests=waiting_end,
        p_wait=np.where(arrivals > 0, total(waited) / some, 0.0),
        mean_wait_s=np.where(arrivals > 0, total(run.wait_s) / some, 0.0),
        within_target=np.where(arrivals > 0, total(within) / some, 1.0),
        utilisation=np.divide(busy, capacity_work, out=np.zeros(bins), where=capacity_work > 0),
    )


def _busy_integral(start: np.ndarray, end: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Slot-seconds busy before each time in `at`: sum of clip(x - start, 0, end - start)."""
    return _ramp(np.sort(start), at) - _ramp(np.sort(end), at)


def _ramp(points: np.ndarray, at: np.ndarray) -> np.ndarray:
    """sum over points p of max(0, x - p), for each x in `at` (points sorted)."""
    below = np.searchsorted(points, at, side="left")
    prefix = np.concatenate([[0.0], np.cumsum(points)])
    return below * at - prefix[below]


def _waiting_at(arrival: np.ndarray, wait: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Requests waiting at each time: arrived at or before it, not yet started or given up."""
    arrived = np.searchsorted(arrival, at, side="right")
    left = np.searchsorted(np.sort(arrival + wait), at, side="right")
    return (arrived - left).astype(np.float64)
