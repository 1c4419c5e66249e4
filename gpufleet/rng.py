"""Random streams: one numpy Generator per named purpose, derived from the scenario seed.

Streams are independent of each other and of creation order, so adding a workload or a
failure process never changes the draws of another.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called `name` under `seed` (stable across runs and platforms)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=key)))


def cumulative(weights: Sequence[float]) -> list[float]:
    """The normalised running total of `weights`, for `pick` (computed as numpy's
    `Generator.choice` computes it, so that both draw alike)."""
    if len(weights) == 1:
        return [1.0]  # w / w for any w > 0
    p = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    cdf /= cdf[-1]
    return cdf.tolist()


def pick(rng: np.random.Generator, cdf: list[float]) -> int:
    """An index drawn with the probabilities behind `cdf` (from `cumulative`).

    The same draw as `rng.choice(len(weights), p=weights / sum)` (one uniform, searched
    in the same float64 running total), without its per-call array set-up: failures
    draw one at a time.
    """
    return bisect_right(cdf, rng.random())
