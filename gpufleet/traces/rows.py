"""Flag bad rows of a batch with a reason each, then hand them to the read report in line order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from gpufleet.traces.csvread import Batch
from gpufleet.traces.parse import describe_value
from gpufleet.traces.report import KEEP_BAD, ReadReport

Describe = tuple[str, tuple[Any, ...]]
"""A message template and the per-row arrays (or Arrow text columns) it is formatted with."""


class RowFlags:
    """The bad rows of one batch; a row keeps the first reason it was flagged for."""

    def __init__(self, batch: Batch, skip: np.ndarray | None = None) -> None:
        """`skip`: rows that are neither checked nor kept (e.g. blank lines the caller counts)."""
        self.batch = batch
        self.skip = np.zeros(len(batch), dtype=bool) if skip is None else skip
        self.bad = self.skip.copy()
        self._flagged: list[tuple[np.ndarray, Describe]] = []

    def flag(self, mask: np.ndarray, message: str, *values: Any) -> None:
        """Mark rows in `mask` bad (unless already), explained by message.format(value[row], ...).

        A value that is an Arrow column is shown as the cell's text ('abc', or empty).
        """
        new = mask & ~self.bad
        if new.any():
            self.bad |= new
            self._flagged.append((np.flatnonzero(new), (message, values)))

    def flag_value(self, mask: np.ndarray, field: str, column: pa.Array, problem: str) -> None:
        """Mark rows bad because the cell of `field` is wrong: "`field`: 'x' <problem>"."""
        self.flag(mask, f"{field}: {{0}} {problem}", column)

    def flag_missing(self, field: str, values: np.ndarray) -> None:
        """Mark rows whose `field` is empty (NaN after parsing)."""
        self.flag(np.isnan(values), f"{field}: missing value")

    @staticmethod
    def _describe(describe: Describe, row: int) -> str:
        message, values = describe
        cells = [describe_value(value, row) if isinstance(value, pa.Array) else value[row] for value in values]
        return message.format(*cells)

    def commit(self, report: ReadReport) -> np.ndarray:
        """Add the bad rows to `report` in line order; return the mask of good rows."""
        if self._flagged:
            rows = np.concatenate([rows for rows, _ in self._flagged])
            which = np.concatenate([np.full(len(rows), k) for k, (rows, _) in enumerate(self._flagged)])
            order = np.argsort(rows, kind="stable")
            room = max(KEEP_BAD - len(report.bad), 0)
            shown = order[:room]
            lines = self.batch.lines(rows[shown])
            for line, row, k in zip(lines.tolist(), rows[shown].tolist(), which[shown].tolist(), strict=True):
                report.add_bad(line, self._describe(self._flagged[k][1], row))
            report.bad_count += len(order) - len(shown)
        return ~self.bad
