"""Job size classes used in every table and chart: by GPUs, at node, rack and block scale."""

from __future__ import annotations

import numpy as np

# Upper bounds (inclusive) in GPUs: one 8-GPU node, one NVL72 rack, 1k, 8k, 64k, beyond.
BOUNDS = (8, 72, 1024, 8192, 65536)
LABELS = ("1-8", "9-72", "73-1K", "1K-8K", "8K-64K", ">64K")


def size_class(gpus: np.ndarray) -> np.ndarray:
    """Label of each job's size class."""
    index = np.searchsorted(np.array(BOUNDS), gpus, side="left")
    return np.array(LABELS, dtype=object)[index]
