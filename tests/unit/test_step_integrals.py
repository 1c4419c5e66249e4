"""The hourly series' step integrals: against exact rational arithmetic, and one sort shared by
several series giving the same bits as a sort each."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gpufleet.results.timeseries import StepTimes, integrate_steps


def exact(times: list[float], deltas: list[float], edges: list[float]) -> list[Fraction]:
    """Integral over each interval, by summing every jump's contribution exactly."""
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        total = Fraction(0)
        for t, d in zip(times, deltas, strict=True):
            start = max(Fraction(t), Fraction(lo))
            if start < hi:
                total += Fraction(d) * (Fraction(hi) - start)
        out.append(total)
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 50, 400])
def test_integrals_match_exact_arithmetic_and_a_shared_sort_changes_no_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    times = rng.integers(-2, 40, n).astype(np.float64) * 900.0  # ties and jumps before the first edge
    jobs, gpus = rng.choice([-1.0, 1.0], n), rng.choice([-8.0, 1.0, 72.0], n)
    edges = np.arange(0.0, 36_001.0, 3600.0)
    steps = StepTimes(times, edges)
    for deltas in (jobs, gpus):
        shared, alone = steps.integrate(deltas), integrate_steps(times, deltas, edges)
        assert shared[0].tobytes() == alone[0].tobytes() and shared[1].tobytes() == alone[1].tobytes()
        assert shared[0].tolist() == pytest.approx([float(v) for v in exact(times.tolist(), deltas.tolist(),
                                                                               edges.tolist())], abs=1e-6)
