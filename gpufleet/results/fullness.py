"""When is the fleet full? Two definitions, both reported, each named where it is shown.

- *startable* (the headline): a day is full when the mean, over its hourly samples, of
  allocated / (allocated + startable GPUs) reaches the threshold. Startable GPUs are the
  free GPUs some waiting job could start on (`sched.headroom`): net of hot spares, GPUs in
  repair, NVLink group granularity and what the backfill reservation keeps for the
  blocked head. The ratio is 1 in an hour when jobs wait and none fits anywhere, and it is
  plain allocated / free-or-allocated when nothing waits.
- *installed*: a day is full when allocated / installed GPU-hours reach the threshold.
  Installed GPUs include hot spares and NVLink-group remnants that no job can use, so a
  fleet with one spare tray per NVL72 rack can never pass 68 / 72 = 94.4% this way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

FULL_THRESHOLD = 0.95
"""A day counts as full when its mean utilisation (by either definition) reaches this."""

STARTABLE_DEFINITION = ("allocated / (allocated + free GPUs a waiting job could start on: net of hot spares, "
                        "GPUs in repair, NVLink-group remnants and GPUs reserved for the blocked head), "
                        "sampled at the end of each hour; 1 when jobs wait and none fits")
INSTALLED_DEFINITION = "allocated / installed GPU-hours (hot spares and unusable remnants included)"


def _days(start: datetime, timeseries: pa.Table) -> np.ndarray:
    offset = start.hour * 3600 + start.minute * 60 + start.second
    return ((timeseries["t_s"].to_numpy() + offset) // 86400).astype(np.int64)


def _first_full(start: datetime, day: np.ndarray, numerator: np.ndarray,
                denominator: np.ndarray) -> tuple[str | None, float]:
    """First day whose summed numerator / denominator reaches FULL_THRESHOLD, and the share of such days."""
    if len(day) == 0:
        return None, 0.0
    days = np.unique(day)
    top = np.bincount(day - day.min(), weights=numerator)[days - day.min()]
    bottom = np.bincount(day - day.min(), weights=denominator)[days - day.min()]
    ratio = np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)
    full = ratio >= FULL_THRESHOLD
    if not full.any():
        return None, 0.0
    midnight = datetime(start.year, start.month, start.day)
    return (midnight + timedelta(days=int(days[np.argmax(full)]))).date().isoformat(), float(full.mean())


def fullness(start: datetime, timeseries: pa.Table) -> dict[str, Any]:
    """When the fleet is full by each definition, and the hourly measures behind them."""
    seconds = timeseries["interval_s"].to_numpy()
    day = _days(start, timeseries)
    startable = timeseries["startable_utilisation"].to_numpy()
    first, share = _first_full(start, day, startable * seconds, seconds)
    installed = timeseries["installed_gpus"].to_numpy() * seconds
    allocated = timeseries["allocated_gpus"].to_numpy() * seconds
    first_installed, share_installed = _first_full(start, day, allocated, installed)
    weighted = seconds.sum() > 0
    return {
        "full_from": first,
        "share_of_days_full": share,
        "full_definition": STARTABLE_DEFINITION,
        "full_threshold": FULL_THRESHOLD,
        "startable_utilisation": float(np.average(startable, weights=seconds)) if weighted else 0.0,
        "share_of_hours_nothing_startable": float(np.average(startable >= 1.0, weights=seconds)) if weighted else 0.0,
        "installed_full_from": first_installed,
        "share_of_days_installed_full": share_installed,
        "installed_full_definition": INSTALLED_DEFINITION,
    }
