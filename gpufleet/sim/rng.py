"""Random streams: one numpy Generator per named purpose, derived from the scenario seed.

Streams are independent of each other and of creation order, so adding a workload or a
failure process never changes the draws of another.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called `name` under `seed` (stable across runs and platforms)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=key)))
