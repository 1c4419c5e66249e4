"""Kolmogorov-Smirnov distances: the largest gap between two cumulative distribution functions.

D = sup_x |F(x) - G(x)|. For two samples both CDFs are step functions, so the sup is
reached at a sample point; evaluating both right-continuous CDFs at every point of the
union gives it exactly, for continuous and discrete data alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gpufleet import numerics

_ERF = np.frompyfunc(math.erf, 1, 1)


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    """sup |F_a - F_b| over the finite values of two samples (NaN if either is empty)."""
    a = np.sort(a[np.isfinite(a)])
    b = np.sort(b[np.isfinite(b)])
    if not len(a) or not len(b):
        return math.nan
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_one_sample(sample: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """sup |F_sample - F| for a continuous model CDF `cdf` (checked on both sides of each step)."""
    x = np.sort(sample[np.isfinite(sample)])
    n = len(x)
    if not n:
        return math.nan
    model = cdf(x)
    above = np.arange(1, n + 1) / n - model
    below = model - np.arange(0, n) / n
    return float(max(above.max(), below.max()))


def ks_discrete(observed: np.ndarray, expected: np.ndarray) -> float:
    """sup |F_obs - F_exp| for two histograms over the same ordered bins."""
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if observed.sum() <= 0 or expected.sum() <= 0:
        return math.nan
    return float(np.max(np.abs(np.cumsum(observed) / observed.sum() - np.cumsum(expected) / expected.sum())))


def lognormal_cdf(median: float, sigma: float) -> Callable[[np.ndarray], np.ndarray]:
    """CDF of a lognormal with this median and log-sd (a step at the median when sigma is 0)."""
    def cdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if sigma <= 0:
            return (x >= median).astype(np.float64)
        z = (numerics.log(np.maximum(x, 0.0)) - math.log(median)) / (sigma * math.sqrt(2.0))
        return 0.5 * (1.0 + _ERF(z).astype(np.float64))
    return cdf


def critical_value(n: int, m: int | None = None, alpha: float = 0.01) -> float:
    """The KS distance a sample of size n (or two of sizes n, m) exceeds with probability alpha
    when both come from one distribution (asymptotic: c(alpha) sqrt((n + m) / (n m)))."""
    c = math.sqrt(-0.5 * math.log(alpha / 2.0))
    size = n if m is None else n * m / (n + m)
    return c / math.sqrt(size) if size > 0 else math.inf
