"""Time units of trace columns: plain numbers in a unit, ISO 8601 date-times, or a strptime format.

The scenario spec validates unit strings with it; the trace readers convert with it.
"""

from __future__ import annotations

SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0, "h": 3600.0, "d": 86400.0}
"""Numeric units and their length in seconds."""

DATETIME_UNITS = ("iso", "datetime")
"""Date-time text in ISO 8601 (`2023-11-16 18:17:03.97996`, `2023-11-16T18:17:03Z`)."""


def check_time_unit(text: str) -> str:
    """Return `text` if it names a time unit, else raise ValueError listing the choices.

    A time unit is a numeric unit (s, ms, us, min, h, d), `iso` for ISO 8601 date-times,
    or a strptime format containing `%` (e.g. `%d/%m/%Y %H:%M:%S`; `.%f` may end it).
    """
    if text in SECONDS_PER_UNIT or text in DATETIME_UNITS:
        return text
    if "%" in text:
        if "%f" in text and not text.endswith(".%f"):
            raise ValueError(f"time format {text!r}: %f (fractional seconds) is supported only at the end, "
                             "after a '.' (e.g. '%Y-%m-%d %H:%M:%S.%f')")
        return text
    raise ValueError(f"unknown time unit {text!r}; use one of {', '.join(SECONDS_PER_UNIT)}, "
                     "iso, or a strptime format such as '%Y-%m-%d %H:%M:%S'")


def check_duration_unit(text: str) -> str:
    """Return `text` if it is a numeric unit (durations are lengths, not dates)."""
    if text in SECONDS_PER_UNIT:
        return text
    raise ValueError(f"unknown duration unit {text!r}; use one of {', '.join(SECONDS_PER_UNIT)}")


def is_datetime(unit: str) -> bool:
    """Whether values in `unit` are calendar date-times (rather than numbers)."""
    return unit in DATETIME_UNITS or "%" in unit
