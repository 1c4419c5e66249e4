"""Text columns to numbers and times, marking the values that do not parse.

Each function takes one Arrow string column (empty cells are nulls) and returns numpy
values plus a mask of the cells that hold text that is not a valid value. Nulls are
not bad here: whether a field may be empty is the reader's decision. The fast path
converts the whole column in Arrow; only a column with a bad cell is converted cell
by cell, to find which ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpufleet import numerics
from gpufleet.spec.units import SECONDS_PER_UNIT, is_datetime

_EPOCH = datetime(1970, 1, 1)
LATEST_S = (datetime(9999, 12, 31, 23, 59, 59) - _EPOCH).total_seconds()
"""Times beyond the last second of year 9999 (from 1970, or from a trace's own origin) are
not times: they are bad cells (and would break every calendar computation after)."""
LARGEST_COUNT = 2.0**53
"""Whole numbers above this are not exact in float64, and no count in a trace is near it."""


def numbers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, NaN for empty and bad cells; mask of cells that are not finite numbers)."""
    try:
        out = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        bad = np.zeros(len(column), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out, bad = _numbers_slowly(column)
    not_finite = _nonnull(column) & ~bad & ~np.isfinite(out)  # 'nan', 'inf'
    if not_finite.any():
        out = np.where(not_finite, np.nan, out)
        bad = bad | not_finite
    return out, bad


def _numbers_slowly(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    return _cell_by_cell(column, float)


def _cell_by_cell(column: pa.Array, parse: Callable[[str], float]) -> tuple[np.ndarray, np.ndarray]:
    """Each non-null cell through `parse`; a ValueError marks the cell bad (NaN)."""
    out = np.full(len(column), np.nan)
    bad = np.zeros(len(column), dtype=bool)
    for index, text in enumerate(column.to_pylist()):
        if text is None:
            continue
        try:
            out[index] = parse(text)
        except ValueError:
            bad[index] = True
    return out, bad


def times_s(column: pa.Array, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Seconds (since 1970-01-01 UTC for date-times, else from the trace's own origin) and bad cells."""
    if is_datetime(unit):
        seconds, bad = _datetimes_s(column, unit)
    else:
        seconds, bad = numbers(column)
        seconds = seconds * SECONDS_PER_UNIT[unit]
    with np.errstate(invalid="ignore"):
        beyond = np.abs(seconds) > LATEST_S
    if beyond.any():
        seconds = np.where(beyond, np.nan, seconds)
        bad = bad | beyond
    return seconds, bad


def _nonnull(column: pa.Array) -> np.ndarray:
    return column.is_valid().to_numpy(zero_copy_only=False)


def _datetimes_s(column: pa.Array, unit: str) -> tuple[np.ndarray, np.ndarray]:
    if unit in ("iso", "datetime"):
        for kind in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
            try:
                stamps = pc.cast(column, kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            return _stamps_to_s(stamps), np.zeros(len(column), dtype=bool)
        return _iso_slowly(column)
    return _strptime_s(column, unit)


def _stamps_to_s(stamps: pa.Array) -> np.ndarray:
    nanos = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
    if stamps.null_count:
        nanos = np.where(stamps.is_valid().to_numpy(zero_copy_only=False), nanos, 0)
        seconds = nanos / 1e9
        seconds[~stamps.is_valid().to_numpy(zero_copy_only=False)] = np.nan
        return seconds
    return nanos / 1e9


def _iso_slowly(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    return _cell_by_cell(column, _iso_seconds)


def _iso_seconds(text: str) -> float:
    when = datetime.fromisoformat(text.strip())
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return (when - _EPOCH).total_seconds()


def _strptime_s(column: pa.Array, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """A strptime format; a trailing `.%f` takes any number of fractional digits."""
    present = _nonnull(column)
    fraction = np.zeros(len(column))
    if unit.endswith(".%f"):
        unit = unit[: -len(".%f")]
        parts = pc.extract_regex(column, r"^(?P<main>.*?)(?:\.(?P<frac>\d+))?$")
        frac_text = pc.struct_field(parts, "frac")
        column = pc.struct_field(parts, "main")
        digits = pc.utf8_length(frac_text).to_numpy(zero_copy_only=False)
        filled = pc.if_else(pc.equal(frac_text, ""), "0", frac_text)
        frac_values = pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False)
        fraction = np.nan_to_num(frac_values / numerics.powers(10.0, digits))
    stamps = pc.strptime(column, format=unit, unit="ns", error_is_null=True)
    seconds = _stamps_to_s(stamps) + fraction
    return seconds, present & np.isnan(seconds)


def integers_ok(values: np.ndarray) -> np.ndarray:
    """Mask of values that are whole numbers (NaN counts as not)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) <= LARGEST_COUNT)


def describe_value(column: pa.Array, index: int) -> str:
    """The cell's text for a message: 'abc', or 'empty'."""
    value = column[index].as_py()
    return "empty" if value is None else repr(value)
