"""Expected time to finish work under failures, and the effective training time ratio (ETTR):
the exact renewal formula that the simulator's checkpoint semantics imply.

What the simulator does (`gpufleet.sched.progress`): a job works in cycles of `interval`
of work followed by a checkpoint write of `write`, with no write after the last piece of
work. A failure stops it; it keeps the work up to its last completed checkpoint (a write
in progress does not count) and restarts after `restart` of overhead, during which it
holds its GPUs and can fail again. Failures of the job's gang arrive as a Poisson
process of rate `rate` while it holds its GPUs.

Derivation. A stretch of `a` time units that must run without a failure to count,
retried from its start after every failure, takes T_r(a) = (e^{rate a} - 1) / rate in
expectation when each retry includes the restart in `a`, and, when the first try starts
at once and only retries pay the restart `r`:

    T(a) = P(fail) (E[time to fail | fail] + T_r(r + a)) + P(no fail) a
         = e^{rate r} (e^{rate a} - 1) / rate.

Every cycle starts fresh (its first try needs no restart: the write before it
completed), so with n = ceil(work / interval) - 1 full cycles of a = interval + write
and a last piece w = work - n interval,

    E[time] = e^{rate r} / rate x (n (e^{rate (interval + write)} - 1) + e^{rate w} - 1),

plus (e^{rate r} - 1) / rate for a job that starts with a restart (it was stopped
before). As rate -> 0 this is work + n x write, the simulator's time without failures.
Over many cycles the share of wall time doing kept work is

    ETTR = rate x interval x e^{-rate r} / (e^{rate (interval + write)} - 1),

which Young/Daly's first-order 1 - write / interval - (interval / 2 + r) / M (M = 1 /
rate) approximates. Its maximum over the interval solves (1 - x) e^x = e^{-rate write}
with x = rate x interval, whatever the restart (Daly 2006's exact optimum, solved here
by bisection). Any unit of time will do, as long as all arguments share it.
"""

from __future__ import annotations

import math

_EXP_MAX = 700.0  # math.exp overflows a float just above 709


def _retry_cost(length: float, rate: float) -> float:
    """(e^{rate length} - 1) / rate: expected time to get `length` through without a failure."""
    exponent = rate * length
    return math.expm1(exponent) / rate if exponent < _EXP_MAX else math.inf


def expected_time(work: float, interval: float, write: float, restart: float, rate: float,
                  restarting: bool = False) -> float:
    """Expected wall time to finish `work` (see the module docstring)."""
    cycles = max(math.ceil(work / interval) - 1, 0) if work > 0 else 0
    last = work - cycles * interval
    if rate <= 0:
        return (restart if restarting else 0.0) + work + cycles * write
    grow = rate * restart
    if grow >= _EXP_MAX:
        return math.inf
    total = math.exp(grow) * (cycles * _retry_cost(interval + write, rate) + _retry_cost(last, rate))
    if restarting:
        total += math.expm1(grow) / rate
    return total


def ettr(interval: float, write: float, restart: float, rate: float) -> float:
    """Long-run share of wall time doing kept work, between 0 and 1."""
    if rate <= 0:
        return interval / (interval + write) if interval + write > 0 else 1.0
    cost = _retry_cost(interval + write, rate)
    if math.isinf(cost) or rate * restart >= _EXP_MAX:
        return 0.0
    return interval * math.exp(-rate * restart) / cost


def optimal_interval(write: float, rate: float) -> float:
    """The checkpoint interval that maximises `ettr` (the restart does not move it); inf without failures."""
    if rate <= 0:
        return math.inf
    target = math.exp(-rate * write)
    lo, hi = 0.0, 1.0  # (1 - x) e^x falls from 1 at x = 0 to 0 at x = 1
    for _ in range(100):
        middle = (lo + hi) / 2.0
        if (1.0 - middle) * math.exp(middle) > target:
            lo = middle
        else:
            hi = middle
    return (lo + hi) / 2.0 / rate
