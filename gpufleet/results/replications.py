"""Replications: the same scenario under several seeds, every metric as a mean with a
Student t confidence interval.

Replication i runs seed `first_seed + i`: the seeds are consecutive, so a re-run with more
replications reuses the runs it has (each seed roots its own independent streams;
`sim.rng` derives every stream from the seed and the stream's name).

The interval is mean +- t(1 - (1 - confidence) / 2, n - 1) x s / sqrt(n) with s the
sample standard deviation (n - 1 in the denominator): Student's t, which assumes the
replications are independent and their means close to normal. A metric with one value
has no interval (None). The arithmetic is + - * / and sqrt only (math.fsum, math.sqrt),
exact IEEE on every machine, and the t quantile comes from scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A metric over replications: how many had it, mean, sample std, CI, min and max."""

    n: int
    mean: float | None
    std: float | None
    low: float | None
    high: float | None
    minimum: float | None
    maximum: float | None
    missing: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "std": self.std, "ci_low": self.low, "ci_high": self.high,
                "min": self.minimum, "max": self.maximum, "missing": self.missing}


def t_quantile(probability: float, dof: int) -> float:
    """The Student t quantile (scipy)."""
    return float(stats.t.ppf(probability, dof))


def estimate(values: list[float | None], confidence: float = CONFIDENCE) -> Estimate:
    """Mean and two-sided Student t interval of the values that are not None (nor NaN)."""
    present = [float(v) for v in values if v is not None and not math.isnan(v)]
    missing = len(values) - len(present)
    n = len(present)
    if n == 0:
        return Estimate(0, None, None, None, None, None, None, missing)
    mean = math.fsum(present) / n
    if n == 1:
        return Estimate(1, mean, None, None, None, present[0], present[0], missing)
    std = math.sqrt(math.fsum((v - mean) * (v - mean) for v in present) / (n - 1))
    half = t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * std / math.sqrt(n)
    return Estimate(n, mean, std, mean - half, mean + half, min(present), max(present), missing)


def one_sided_bound(values: list[float | None], confidence: float, upper: bool) -> float | None:
    """The one-sided Student t bound on the mean at `confidence`: the mean is below the
    upper bound (or above the lower one) with that confidence. A missing value (a job that
    never started) makes the bound infinite on the bad side; one value is its own bound."""
    if any(v is None or math.isnan(v) for v in values):
        return math.inf if upper else -math.inf
    present = [float(v) for v in values]  # type: ignore[arg-type]
    n = len(present)
    if n == 0:
        return None
    mean = math.fsum(present) / n
    if n == 1:
        return mean
    std = math.sqrt(math.fsum((v - mean) * (v - mean) for v in present) / (n - 1))
    half = t_quantile(confidence, n - 1) * std / math.sqrt(n)
    return mean + half if upper else mean - half


def estimates(rows: list[dict[str, float | None]], confidence: float = CONFIDENCE) -> dict[str, Estimate]:
    """Every metric of the rows (one row per replication), in first-seen order."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    return {name: estimate([row.get(name) for row in rows], confidence) for name in names}


@dataclass
class ReplicationSummary:
    """What N replications of one scenario say, metric by metric."""

    scenario: str
    seeds: list[int]
    until: str | None
    rows: list[dict[str, float | None]]
    confidence: float = CONFIDENCE

    @property
    def replications(self) -> int:
        return len(self.rows)

    def estimates(self) -> dict[str, Estimate]:
        return estimates(self.rows, self.confidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "replications": self.replications,
            "seeds": self.seeds,
            "until": self.until,
            "confidence": self.confidence,
            "interval": "Student t, two-sided, on the mean across replications",
            "metrics": {name: est.as_dict() for name, est in self.estimates().items()},
        }
