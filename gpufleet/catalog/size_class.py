"""Job size classes used in every table and chart: by GPUs, at node, rack and block scale.

Each label names its edges in GPUs, both inclusive ("8,193-65,536" holds the 65,536-GPU
runs; ">65,536" starts above them), so a reader never has to guess which bin a size
falls in. The labels are made from `BOUNDS`, here and nowhere else.
"""

from __future__ import annotations

import numpy as np

BOUNDS = (8, 72, 1024, 8192, 65536)
"""Upper edges (inclusive) in GPUs: one 8-GPU node, one NVL72 rack, 1,024, 8,192, 65,536."""


def _labels(bounds: tuple[int, ...]) -> tuple[str, ...]:
    lows = (1, *(bound + 1 for bound in bounds[:-1]))
    return (*(f"{low:,}-{high:,}" for low, high in zip(lows, bounds, strict=True)), f">{bounds[-1]:,}")


LABELS = _labels(BOUNDS)
"""("1-8", "9-72", "73-1,024", "1,025-8,192", "8,193-65,536", ">65,536")."""


def size_class_index(gpus: np.ndarray) -> np.ndarray:
    """Index into `LABELS` of each job's size class."""
    return np.searchsorted(np.array(BOUNDS), gpus, side="left")


def size_class(gpus: np.ndarray) -> np.ndarray:
    """Label of each job's size class."""
    return np.array(LABELS, dtype=object)[size_class_index(gpus)]
