"""When a run samples what cannot be rebuilt afterwards: at every whole UTC hour.

The hourly tables (`results.tables`) use the same edges, so each sample sits at the end
of the hour it closes.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np


def hour_edges(start: datetime, end_s: float) -> np.ndarray:
    """0, every whole UTC hour after `start` before `end_s`, and `end_s` (seconds from start)."""
    into_hour = start.minute * 60 + start.second + start.microsecond / 1e6
    first = 3600.0 - into_hour if into_hour else 3600.0
    inner = np.arange(first, end_s, 3600.0)
    return np.concatenate(([0.0], inner, [end_s])) if end_s > 0 else np.array([0.0, 0.0])
