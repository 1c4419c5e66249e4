"""The interval model: how a pool of ready replicas serves one interval's demand.

Model. A replica with throughput T output tokens/s at the latency target decodes each
request at the SLO's speed r tokens/s, so it serves floor(T / r) requests at once
(continuous batching). The service's ready replicas are c such slots behind one FIFO
queue; a request with L output tokens holds a slot for L / r seconds. With Poisson
arrivals at rate lambda and exponential service times of mean L / r (mu = r / L per
slot) this is M/M/c, offered load a = lambda / mu slots:

- stable (a < c), from an empty queue: stationary M/M/c. P(wait) = C(c, a) (Erlang C),
  the wait of those who wait is exponential with rate theta = c mu - lambda, so
  P(W <= t) = 1 - C e^(-theta t). A request waiting longer than the patience tau gives
  up (dropped, its wait counted as tau): mean wait E[min(W, tau)] = C (1 - e^(-theta tau)) / theta,
  dropped fraction C e^(-theta tau).
- overload (a >= c), or a backlog carried in from an overloaded interval: a fluid
  queue. All c slots are busy; the backlog of work w (slot-seconds) grows at a - c, an
  arrival waits w / c, and the backlog is capped at c tau (longer waits give up: the
  excess is dropped). Once the backlog drains, the rest of the interval is stationary
  M/M/c as above. The backlog and its token mix carry over (FIFO) to later intervals.

Units: rates per second, counts and tokens per interval. Work is in slot-seconds; a
slot-second decodes r output tokens, so tokens served = work served x r <= c r x
duration (the token capacity), and requests served never exceed arrivals plus backlog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from gpufleet import numerics
from gpufleet.serving.demand import DemandIntervals
from gpufleet.serving.erlang import erlang_c

_TINY_TOKENS = 1e-9  # floor on tokens per request, so an interval of empty answers has a finite service rate


@dataclass(frozen=True, slots=True)
class IntervalMetrics:
    """What one service did in each interval (arrays of one length).

    Attributes:
        start_s, end_s: the interval (seconds since scenario start).
        slots: requests the ready replicas can serve at once (c).
        demand_rps: arrival rate (requests/s).
        output_tokens_per_request, input_tokens_per_request: mean tokens of the arrivals.
        offered_load: slots the demand keeps busy (a = demand_rps x mean service time).
        capacity_rps: requests/s the slots complete when all busy (c mu).
        capacity_tokens_per_s: output tokens/s the slots decode when all busy (c r).
        served_requests, served_output_tokens, served_input_tokens: completed in the interval.
        dropped_requests, dropped_output_tokens: gave up waiting (or found no capacity).
        backlog_requests: waiting at the end (delayed into the next interval).
        p_wait: share of arrivals that wait at all.
        mean_wait_s: mean wait before starting (give-ups counted at the patience).
        within_target: share of arrivals that start within the SLO wait.
        utilisation: busy share of the slots (served work / (c x duration)); 0 without slots.
    """

    start_s: np.ndarray
    end_s: np.ndarray
    slots: np.ndarray
    demand_rps: np.ndarray
    output_tokens_per_request: np.ndarray
    input_tokens_per_request: np.ndarray
    offered_load: np.ndarray
    capacity_rps: np.ndarray
    capacity_tokens_per_s: np.ndarray
    served_requests: np.ndarray
    served_output_tokens: np.ndarray
    served_input_tokens: np.ndarray
    dropped_requests: np.ndarray
    dropped_output_tokens: np.ndarray
    backlog_requests: np.ndarray
    p_wait: np.ndarray
    mean_wait_s: np.ndarray
    within_target: np.ndarray
    utilisation: np.ndarray

    def __len__(self) -> int:
        return len(self.start_s)

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s

    @property
    def demand_requests(self) -> np.ndarray:
        """Arrivals in each interval."""
        return self.demand_rps * self.duration_s

    @property
    def demand_output_tokens(self) -> np.ndarray:
        """Output tokens asked for in each interval."""
        return self.demand_requests * self.output_tokens_per_request

    def to_arrow(self) -> pa.Table:
        """One row per interval, one column per attribute."""
        return pa.table({f.name: getattr(self, f.name) for f in fields(self)})


def interval_metrics(demand: DemandIntervals, slots: np.ndarray, *, tokens_per_s_per_request: float,
                     wait_target_s: float, abandon_after_s: float) -> IntervalMetrics:
    """Serve each interval's demand with `slots[i]` ready slots (see the module docstring).

    Args:
        demand: rates and token means per interval.
        slots: ready slots per interval (whole numbers; ready replicas x slots per replica).
        tokens_per_s_per_request: decode speed r of one request (the SLO's).
        wait_target_s: the SLO's wait T.
        abandon_after_s: the patience tau (> T).
    """
    r, target, tau = float(tokens_per_s_per_request), float(wait_target_s), float(abandon_after_s)
    c = np.floor(np.asarray(slots, dtype=np.float64))
    if c.shape != demand.start_s.shape:
        raise ValueError(f"{len(c)} slot counts for {len(demand)} intervals")
    if np.any(c < 0):
        raise ValueError("slots cannot be negative")
    lam = demand.requests_per_s
    mu = r / np.maximum(demand.output_tokens_per_request, _TINY_TOKENS)
    a = lam * demand.output_tokens_per_request / r  # 0 for answers without tokens: they need no slot time
    delta = demand.duration_s
    stable = (a < c) | (a <= 0)  # no demand is trivially stable, even without slots
    # Stationary M/M/c for every stable interval; overloaded ones (and those behind them
    # while a backlog drains) are overwritten by the fluid pass below.
    wait_c = erlang_c(c, a)
    theta = np.where(stable & (c * mu > lam), c * mu - lam, 1.0)
    within = np.where(stable, 1.0 - wait_c * numerics.exp(-theta * target), 0.0)
    give_up = np.where(stable, wait_c * numerics.exp(-theta * tau), 1.0)
    mean_wait = np.where(stable, wait_c * -numerics.expm1(-theta * tau) / theta, tau)
    arrivals = lam * delta
    served = arrivals * (1.0 - give_up)
    work_per_request = demand.output_tokens_per_request / r
    out = {
        "served_requests": served,
        "served_work": served * work_per_request,
        "served_input_tokens": served * demand.input_tokens_per_request,
        "dropped_requests": arrivals - served,
        "dropped_work": (arrivals - served) * work_per_request,
        "backlog_requests": np.zeros(len(c)),
        "p_wait": np.where(stable, wait_c, 1.0),
        "mean_wait_s": mean_wait,
        "within_target": within,
    }
    _fluid_pass(out, c, lam, mu, a, delta, demand.input_tokens_per_request, wait_c, target, tau, ~stable)
    capacity_work = c * delta
    return IntervalMetrics(
        start_s=demand.start_s, end_s=demand.end_s, slots=c, demand_rps=lam,
        output_tokens_per_request=demand.output_tokens_per_request,
        input_tokens_per_request=demand.input_tokens_per_request,
        offered_load=a, capacity_rps=c * mu, capacity_tokens_per_s=c * r,
        served_requests=out["served_requests"], served_output_tokens=out["served_work"] * r,
        served_input_tokens=out["served_input_tokens"], dropped_requests=out["dropped_requests"],
        dropped_output_tokens=out["dropped_work"] * r, backlog_requests=out["backlog_requests"],
        p_wait=out["p_wait"], mean_wait_s=out["mean_wait_s"], within_target=out["within_target"],
        utilisation=np.divide(out["served_work"], capacity_work, out=np.zeros(len(c)), where=capacity_work > 0),
    )


def _fluid_pass(out: dict[str, np.ndarray], c: np.ndarray, lam: np.ndarray, mu: np.ndarray, a: np.ndarray,
                delta: np.ndarray, input_tokens: np.ndarray, wait_c: np.ndarray, target: float, tau: float,
                overloaded: np.ndarray) -> None:
    """Walk each run of intervals from an overloaded one until its backlog has drained."""
    starts = np.flatnonzero(overloaded)
    n = len(c)
    backlog = _Backlog()
    j = 0
    while j < len(starts):
        k = int(starts[j])
        while k < n and (backlog.work > 0.0 or overloaded[k]):
            step = _fluid_step(backlog, float(c[k]), float(lam[k]), float(mu[k]), float(a[k]), float(delta[k]),
                               float(input_tokens[k]), float(wait_c[k]), target, tau)
            for name, value in step.items():
                out[name][k] = value
            k += 1
        j = int(np.searchsorted(starts, k))


@dataclass(slots=True)
class _Backlog:
    """Work waiting (slot-seconds) and its mix: requests and input tokens per slot-second."""

    work: float = 0.0
    requests_per_work: float = 0.0
    input_per_work: float = 0.0

    @property
    def requests(self) -> float:
        return self.work * self.requests_per_work


def _fluid_step(backlog: _Backlog, c: float, lam: float, mu: float, a: float, delta: float, input_tokens: float,
                wait_c: float, target: float, tau: float) -> dict[str, float]:
    """One interval of the fluid queue; updates `backlog` in place, returns the interval's figures."""
    q_new, i_new = mu, input_tokens * mu  # requests and input tokens per slot-second of the new arrivals
    arrivals = lam * delta
    if c <= 0.0:
        # No slot: everyone waits out the patience and leaves (so does any backlog).
        dropped = arrivals + backlog.requests
        dropped_work = a * delta + backlog.work
        backlog.work = 0.0
        return {"served_requests": 0.0, "served_work": 0.0, "served_input_tokens": 0.0,
                "dropped_requests": dropped, "dropped_work": dropped_work, "backlog_requests": 0.0,
                "p_wait": 1.0, "mean_wait_s": tau, "within_target": 0.0}
    cap, good = c * tau, c * target  # backlog at which an arrival waits tau, and T
    drop_old = max(0.0, backlog.work - cap)
    w = backlog.work - drop_old
    net = a - c
    stoch_time = 0.0
    stoch_drop = 0.0  # requests giving up in the stationary part
    if net >= 0.0:
        t_cap = (cap - w) / net if net > 0.0 else math.inf
        if t_cap >= delta:
            w_end, area, drop_new = w + net * delta, delta * (w + net * delta / 2.0), 0.0
        else:
            w_end, area, drop_new = cap, t_cap * (w + cap) / 2.0 + (delta - t_cap) * cap, net * (delta - t_cap)
        served_work = c * delta
        within_time = min(max((good - w) / net, 0.0), delta) if net > 0.0 else (delta if w <= good else 0.0)
        waited_time = delta  # all slots busy: every arrival waits
        stoch_wait = 0.0
    else:
        drain = w / -net
        drop_new = 0.0
        if drain >= delta:
            w_end, area, served_work, fluid_time = w + net * delta, delta * (w + net * delta / 2.0), c * delta, delta
        else:
            w_end, area, served_work, fluid_time = 0.0, drain * w / 2.0, w + a * delta, drain
        stoch_time = delta - fluid_time
        theta = c * mu - lam
        stoch_drop = lam * stoch_time * wait_c * math.exp(-theta * tau)
        served_work -= stoch_drop / mu
        within_fluid = max(0.0, fluid_time - max(0.0, (w - good) / -net))
        within_time = within_fluid + stoch_time * (1.0 - wait_c * math.exp(-theta * target))
        waited_time = (fluid_time if w > 0.0 else 0.0) + stoch_time * wait_c
        stoch_wait = stoch_time * wait_c * -math.expm1(-theta * tau) / theta
    old_served = min(w, served_work)
    old_left = w - old_served
    # While old work is left (FIFO), none of the new work was served: what is left of it is
    # what arrived less what gave up. Equal to w_end - old_left, without the cancellation
    # that a tiny service time (huge mu) turns into whole requests.
    new_left = max(0.0, a * delta - drop_new) if old_left > 0.0 else w_end
    # New requests served by conservation (not work x mu): answers without tokens take no work.
    new_requests = max(0.0, arrivals - drop_new * q_new - stoch_drop - new_left * q_new)
    served_requests = old_served * backlog.requests_per_work + new_requests
    served_input = old_served * backlog.input_per_work + new_requests * input_tokens
    dropped = drop_old * backlog.requests_per_work + drop_new * q_new + stoch_drop
    left_requests = old_left * backlog.requests_per_work + new_left * q_new
    if w_end > 1e-12 * c:
        backlog.requests_per_work = left_requests / w_end
        backlog.input_per_work = (old_left * backlog.input_per_work + new_left * i_new) / w_end
        backlog.work = w_end
    else:
        backlog.work, left_requests = 0.0, 0.0
    return {"served_requests": served_requests, "served_work": served_work, "served_input_tokens": served_input,
            "dropped_requests": dropped, "dropped_work": drop_old + drop_new + stoch_drop / mu,
            "backlog_requests": left_requests, "p_wait": waited_time / delta,
            "mean_wait_s": (area / c + stoch_wait) / delta, "within_target": within_time / delta}
