"""Elementwise exp, log and friends with the C math library's results on every CPU.

numpy sends `np.exp`, `np.log`, `np.power`, `np.log1p`, `np.expm1` (and the other
transcendental ufuncs) to vector code chosen by the CPU at run time; on CPUs with
AVX-512 that code rounds the last bit differently from the C library for a few per cent
of inputs, so a seed would give another run on another machine. These functions apply
the C library's scalar function (through `math`) to each element instead: the same
bits as `math.exp(x)` for every element, whatever the CPU, at about 60 ns an element.
numpy's random Generator draws (`lognormal`, `exponential`, ...) already call the C
library and need no help; + - * / and sqrt are exact IEEE operations everywhere.

`weighted_sum` replaces a matrix-vector product (`m @ w`), which numpy hands to BLAS,
whose kernels (and so the order of the sums) are chosen by the CPU too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Array = np.ndarray


def _through(scalar: Callable[[float], float], safe: Callable[[float], float], x: Array | float) -> Array:
    values = np.asarray(x, dtype=np.float64)
    flat = values.ravel().tolist()
    try:
        out = list(map(scalar, flat))
    except (ValueError, OverflowError):  # rare: an input outside the function's domain or range
        out = list(map(safe, flat))
    return np.array(out, dtype=np.float64).reshape(values.shape)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _log1p(x: float) -> float:
    if x > -1.0:
        return math.log1p(x)
    return -math.inf if x == -1.0 else math.nan


def exp(x: Array | float) -> Array:
    """e ** x elementwise (inf where it overflows), as `math.exp` gives it."""
    return _through(math.exp, _exp, x)


def expm1(x: Array | float) -> Array:
    """e ** x - 1 elementwise, accurate near 0, as `math.expm1` gives it."""
    return _through(math.expm1, _expm1, x)


def log(x: Array | float) -> Array:
    """Natural log elementwise (-inf at 0, nan below), as `math.log` gives it."""
    return _through(math.log, _log, x)


def log1p(x: Array | float) -> Array:
    """log(1 + x) elementwise, accurate near 0 (-inf at -1, nan below), as `math.log1p` gives it."""
    return _through(math.log1p, _log1p, x)


def logaddexp(a: Array, b: Array) -> Array:
    """log(e ** a + e ** b) elementwise, without overflow (numpy's formula, the C library's log1p and exp)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    top = np.maximum(a, b)
    with np.errstate(invalid="ignore"):  # inf - inf: handled below
        gap = -np.abs(a - b)
    finite = np.isfinite(gap)  # a == b == -inf gives nan here; the sum is then e ** top
    out = top.copy()
    out[finite] = top[finite] + log1p(exp(gap[finite]))
    return out


def powers(base: float, exponents: Array) -> Array:
    """base ** k for each whole number k in `exponents` (`math.pow` per distinct k)."""
    exponents = np.asarray(exponents, dtype=np.int64)
    if exponents.size == 0:
        return np.zeros(exponents.shape)
    lo, hi = int(exponents.min()), int(exponents.max())
    table = np.array([math.pow(base, k) for k in range(lo, hi + 1)], dtype=np.float64)
    return table[exponents - lo]


def weighted_sum(matrix: Array, weights: Array) -> Array:
    """matrix @ weights, summed column by column in order (the same bits on every CPU)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if matrix.shape[-1] != len(weights):
        raise ValueError(f"{matrix.shape[-1]} columns for {len(weights)} weights")
    out = np.zeros(matrix.shape[:-1])
    for column, weight in enumerate(weights):
        out += matrix[..., column] * weight
    return out
