"""Erlang B/C and the interval model's stationary waits against independent evaluations.

Truths: the textbook Erlang C formula evaluated directly (exact rationals) for small c;
the Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), a different algorithm, for c up
to 10^5; and the Halfin-Whitt limit C -> 1 / (1 + beta Phi(beta) / phi(beta)) with
c = a + beta sqrt(a) for c in the hundreds of millions.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from gpufleet.serving.demand import DemandIntervals
from gpufleet.serving.erlang import erlang_b, erlang_c, log_inv_erlang_b
from gpufleet.serving.queueing import interval_metrics


def erlang_c_direct(c: int, a: Fraction) -> Fraction:
    """P(wait) in M/M/c from the textbook formula, in exact arithmetic."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def erlang_b_recursion(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


LOADS = (0.05, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


@pytest.mark.parametrize("c", [1, 2, 3, 5, 8, 13, 21, 40, 63, 64, 65, 100, 150])
def test_erlang_c_matches_the_textbook_formula(c: int) -> None:
    for rho in LOADS:
        a = Fraction(round(rho * c * 1000), 1000)
        assert float(erlang_c(c, float(a))) == pytest.approx(float(erlang_c_direct(c, a)), rel=1e-10)


@pytest.mark.parametrize("c", [200, 1_000, 5_000, 20_000, 100_000])
def test_erlang_b_matches_the_recursion_for_large_c(c: int) -> None:
    for rho in (0.5, 0.9, 0.99, 0.999, 0.9999):
        a = rho * c
        expected = erlang_b_recursion(c, a)
        assert float(erlang_b(c, a)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("c_target", [1e8, 1e10, 1e12])
@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0, 2.0])
def test_halfin_whitt_limit_for_huge_c(c_target: float, beta: float) -> None:
    # a = c - beta sqrt(c) keeps (c - a) / sqrt(a) at beta to O(1/sqrt(c)).
    c = float(round(c_target))
    a = c - beta * math.sqrt(c)
    phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    limit = 1 / (1 + beta * big_phi / phi)
    assert float(erlang_c(c, a)) == pytest.approx(limit, rel=20 / math.sqrt(c))


def test_stable_and_monotone_over_a_wide_grid() -> None:
    c = np.repeat(np.array([1, 7, 63, 64, 1e3, 1e5, 1e7, 1e9, 1e12]), 200)
    rho = np.tile(np.concatenate([np.logspace(-6, -0.001, 150), 1 - np.logspace(-9, -2.5, 50)]), 9)
    p = erlang_c(c, c * rho)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    # For fixed c, P(wait) grows with the load.
    for row in p.reshape(9, 200):
        order = np.argsort(rho[:200])
        assert np.all(np.diff(row[order]) >= -1e-12)
    # For fixed load, more servers wait less (economy of scale).
    for k in range(200):
        assert np.all(np.diff(p.reshape(9, 200)[:, k]) <= 1e-12)


def test_negligible_region_is_a_bound_not_a_value() -> None:
    # 10,000 servers at 50% load: B underflows; the log form still says how small it is.
    assert float(log_inv_erlang_b(10_000, 5_000)) > 800
    assert float(erlang_c(10_000, 5_000)) == 0.0


def test_edge_cases() -> None:
    assert list(erlang_c([4, 4, 4, 0], [0.0, 4.0, 5.0, 0.5])) == [0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("c, rho", [(1, 0.5), (4, 0.75), (10, 0.9), (50, 0.95), (500, 0.99), (30_000, 0.995)])
def test_interval_model_mean_wait_is_erlang_c(c: int, rho: float) -> None:
    """Poisson requests, exponential service on c slots: W = C / (c mu - lambda) and
    P(W <= t) = 1 - C e^-(c mu - lambda) t."""
    tokens, speed = 400.0, 20.0  # 20 s mean service
    mu = speed / tokens
    lam = rho * c * mu
    demand = DemandIntervals(np.array([0.0]), np.array([300.0]), np.array([lam]), np.array([tokens]),
                             np.array([0.0]))
    target = 3.0
    metrics = interval_metrics(demand, np.array([c]), tokens_per_s_per_request=speed, wait_target_s=target,
                               abandon_after_s=1e12)
    a = Fraction(lam / mu).limit_denominator(10**9)
    if c <= 150:
        p_wait = float(erlang_c_direct(c, a))
    else:
        b = erlang_b_recursion(c, float(a))
        p_wait = b / (1 - float(a) / c * (1 - b))
    theta = c * mu - lam
    assert metrics.p_wait[0] == pytest.approx(p_wait, rel=1e-9)
    assert metrics.mean_wait_s[0] == pytest.approx(p_wait / theta, rel=1e-9)
    assert metrics.within_target[0] == pytest.approx(1 - p_wait * math.exp(-theta * target), rel=1e-9)
    assert metrics.utilisation[0] == pytest.approx(rho, rel=1e-9)
    assert metrics.dropped_requests[0] == pytest.approx(0.0, abs=1e-9)
