"""Erlang B and Erlang C, vectorised and stable for any number of servers.

Erlang B has the integral form (for real a > 0 and c >= 0)

    1 / B(c, a) = integral_0^inf exp(-x) (1 + x / a)^c dx,

a sum of positive terms (no cancellation). We evaluate it in log space:

- c < 64: Gauss-Laguerre with 32 nodes, which is exact for the polynomial (1 + x/a)^c
  of degree c <= 63 (up to rounding);
- c >= 64 (with a < c): substitute x = (c - a) + sqrt(c) t, centring the integrand on
  its peak; it becomes exp(c log1p((c - a)/a) - (c - a)) x sqrt(c) times a bell
  exp(c log1p(t/sqrt c) - sqrt(c) t) of width about 1, integrated by 64-node
  Gauss-Legendre over t in [max((a - c)/sqrt c, -10), 10 + 100/sqrt c], outside which
  the bell is below e^-50.

Checked against exact rational arithmetic (tests/serving/test_erlang.py) to about
1e-11 relative, and against the Halfin-Whitt limit for c in the hundreds of millions.
The cost is O(1) per (c, a) pair, whatever c is; the Erlang B recursion would be O(c).
"""

from __future__ import annotations

import numpy as np

from gpufleet import numerics
from gpufleet.serving.quadrature import LAGUERRE_W, LAGUERRE_X, LEGENDRE_W, LEGENDRE_X

_EXACT_BELOW = 64  # 32 Laguerre nodes integrate polynomials of degree <= 63 exactly
_LAG_X = np.array(LAGUERRE_X)
_LAG_LOG_W = numerics.log(np.array(LAGUERRE_W))
_LEG_X, _LEG_W = np.array(LEGENDRE_X), np.array(LEGENDRE_W)
_K = 10.0  # half-width of the bell in standard deviations; the tails beyond hold < e^-50 of it
_NEGLIGIBLE = 800.0  # ln(1/B) beyond this: B and C are below the smallest double
_CHUNK = 8192
_TINY_LOAD = 1e-300


def log_inv_erlang_b(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """ln(1 / B(c, a)) for servers c >= 1 and offered load 0 < a, with a < c when c >= 64.

    Where the result would exceed 800 (B below the smallest double) it is a lower bound
    of at least 800, not the exact value: that is all a caller turning it into B needs.
    """
    c = np.asarray(c, dtype=np.float64)
    # Loads below 1e-300 make B smaller than any double whatever they are; the floor keeps
    # x / a finite.
    a = np.maximum(np.asarray(a, dtype=np.float64), _TINY_LOAD)
    c, a = np.broadcast_arrays(c, a)
    out = np.empty(c.shape)
    # Exponent of the bell's peak: a lower bound of ln(1/B) (the bell's integral is >= ~1).
    peak = c * numerics.log1p((c - a) / a) - (c - a)
    small = c < _EXACT_BELOW
    negligible = (peak > _NEGLIGIBLE) & ~small
    out[negligible] = peak[negligible]
    for mask, function in ((small, _laguerre), (~small & ~negligible, _bell)):
        index = np.flatnonzero(mask)
        for lo in range(0, len(index), _CHUNK):
            chunk = index[lo:lo + _CHUNK]
            out.flat[chunk] = function(c.flat[chunk], a.flat[chunk])
    return out


def _laguerre(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    terms = _LAG_LOG_W + c[:, None] * numerics.log1p(_LAG_X / a[:, None])
    top = terms.max(axis=1)
    return top + numerics.log(numerics.exp(terms - top[:, None]).sum(axis=1))


def _bell(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    root = np.sqrt(c)
    peak = c * numerics.log1p((c - a) / a) - (c - a)
    lo = np.maximum((a - c) / root, -_K)
    hi = _K + _K * _K / root
    half, middle = (hi - lo) / 2.0, (hi + lo) / 2.0
    t = middle[:, None] + half[:, None] * _LEG_X
    exponent = c[:, None] * numerics.log1p(t / root[:, None]) - root[:, None] * t
    return peak + numerics.log((numerics.exp(exponent) * _LEG_W).sum(axis=1) * half * root)


def erlang_b(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Blocking probability of M/M/c/c (Erlang B) for c >= 1 servers, a > 0 (a < c when c >= 64)."""
    return numerics.exp(-log_inv_erlang_b(c, a))


def erlang_c(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Probability that an arrival waits in M/M/c (Erlang C), offered load a = lambda / mu.

    1 where a >= c (no steady state: every arrival finds all servers busy) or c = 0;
    0 where a = 0.
    """
    c = np.asarray(c, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    c, a = np.broadcast_arrays(c, a)
    out = np.ones(c.shape)
    out[a <= 0] = 0.0
    stable = (a > 0) & (a < c)
    cs, as_ = c[stable], a[stable]
    rho = as_ / cs
    # 1/C = rho + (1 - rho) / B, summed in log space: B can be far below the smallest double.
    log_rho = numerics.log(rho)  # rho can underflow to 0: log 0 = -inf is right here
    log_inv_c = numerics.logaddexp(log_rho, numerics.log1p(-rho) + log_inv_erlang_b(cs, as_))
    out[stable] = numerics.exp(-log_inv_c)
    return out
