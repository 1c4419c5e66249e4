"""What reading a trace found: rows read, bad rows with their line numbers, rows left out and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gpufleet.errors import InputError, Problem

KEEP_BAD = 1000
"""Bad rows remembered one by one; beyond this they are only counted."""

SHOW_BAD = 20
"""Bad rows listed in an error message before `... and N more`."""


@dataclass(slots=True)
class BadRow:
    """One row that could not be read: its 1-based line in the file and what is wrong."""

    line: int | None
    message: str


@dataclass
class ReadReport:
    """The bookkeeping of one read: every data row is either kept, bad or left out for a stated reason.

    Attributes:
        path: the file read.
        format: the trace format.
        rows: data rows in the file (header excluded), bad ones included.
        bad_count: rows that could not be read (missing field, negative duration, ...).
        bad: the first KEEP_BAD bad rows, with line numbers.
        left_out: valid rows that are not part of the result, by reason (e.g. CPU-only pods).
        notes: facts about the read a user should know (e.g. a unit assumption).
    """

    path: str
    format: str
    rows: int = 0
    bad_count: int = 0
    bad: list[BadRow] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_bad(self, line: int | None, message: str) -> None:
        """Count one bad row (and remember it while under KEEP_BAD)."""
        self.bad_count += 1
        if len(self.bad) < KEEP_BAD:
            self.bad.append(BadRow(line, message))

    def leave_out(self, reason: str, count: int) -> None:
        """Count `count` valid rows left out of the result for `reason`."""
        if count:
            self.left_out[reason] = self.left_out.get(reason, 0) + int(count)

    @property
    def kept(self) -> int:
        """Rows that made it into the result."""
        return self.rows - self.bad_count - sum(self.left_out.values())

    def in_line_order(self) -> list[BadRow]:
        """The remembered bad rows sorted by line."""
        return sorted(self.bad, key=lambda row: (row.line is None, row.line or 0))

    def problems(self, limit: int = SHOW_BAD) -> list[Problem]:
        """The bad rows as Problems (file and line), at most `limit` plus a count of the rest."""
        shown = [Problem(row.message, file=self.path, line=row.line) for row in self.in_line_order()[:limit]]
        if self.bad_count > len(shown):
            shown.append(Problem(f"... and {self.bad_count - len(shown):,} more bad rows", file=self.path))
        return shown

    def check(self, strict: bool) -> None:
        """Raise InputError listing the bad rows if `strict` and there are any."""
        if strict and self.bad_count:
            raise InputError([
                Problem(f"{self.bad_count:,} bad rows of {self.rows:,} (strict mode: fix them or drop --strict)",
                        file=self.path),
                *self.problems(),
            ])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (bad rows listed up to KEEP_BAD)."""
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "kept": self.kept,
            "bad_rows": self.bad_count,
            "bad_examples": [{"line": row.line, "message": row.message} for row in self.in_line_order()],
            "left_out": dict(self.left_out),
            "notes": list(self.notes),
        }
