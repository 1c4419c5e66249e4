"""Number formatting shared by the terminal summary and the HTML report."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def hours(value: float | None) -> str:
    """'3.2 h', or '4.5 d' from two days up; '-' for None."""
    if value is None:
        return "-"
    return f"{value / 24:,.1f} d" if value >= 48 else f"{value:,.1f} h"


def km_hours(figures: dict, key: str) -> str:
    """A Kaplan-Meier wait figure (`results.waits`): '3.2 h', or '> 40.0 d' when too many
    jobs still wait for the quantile to be reached (it lies beyond the longest wait seen)."""
    value = figures.get(key)
    if value is None and figures.get("restricted_to_h") is not None:
        return f"> {hours(figures['restricted_to_h'])}"
    return hours(value)


def usd(value: float | None) -> str:
    """'$1.23B', '$4.56M', '$7.89k', '$12' or '$0.19'; '-' for None."""
    if value is None:
        return "-"
    if value < 0:
        return "-" + usd(-value)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"${value / scale:,.2f}{unit}"
    return f"${value:,.2f}" if abs(value) < 10 else f"${value:,.0f}"


_UNITS = (("s", 1.0 / 3600.0), ("min", 1.0 / 60.0), ("h", 1.0), ("d", 24.0))


def time_unit(values_h: Iterable[float | None]) -> tuple[str, float]:
    """The unit that suits a column of durations given in hours, and its length in hours:
    s below two minutes, min below two hours, h below two days, d from there (judged by
    the column's largest value, so every row of a column reads in one unit)."""
    largest = max((value for value in values_h if value is not None and math.isfinite(value)), default=0.0)
    for (unit, scale), (_, next_scale) in zip(_UNITS, _UNITS[1:], strict=False):
        if largest < 2.0 * next_scale:
            return unit, scale
    return _UNITS[-1]


def in_unit(value_h: float | None, unit: tuple[str, float]) -> str:
    """`value_h` hours in `unit` (from `time_unit`) with about three significant digits."""
    if value_h is None or not math.isfinite(value_h):
        return "-"
    value = value_h / unit[1]
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 1 else f"{value:.2g}"
    return f"{text} {unit[0]}"


def rate(value: float) -> str:
    """A rate with about three significant digits: '1,234', '56.8', '0.139'."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def start_by_cell(row: dict[str, Any]) -> str:
    """A named job's start-by date and whether it made it (days late if not)."""
    if "start_by" not in row:
        return "-"
    if row["started_by_date"]:
        return f"{row['start_by'][:10]} (met)"
    late = row["days_late"]
    return f"{row['start_by'][:10]} ({f'{late:.1f} d late' if late is not None else 'not started'})"
