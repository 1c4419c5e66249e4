"""Stream a CSV file as batches of text columns, keeping every row's line number.

The file is cut into pieces of about 4 MB at line breaks and each piece parsed by
Arrow, so memory stays at one piece whatever the file size. All columns are read as
text (empty cell = null) and converted by the format readers, which decide what is a
bad value. A row with the wrong number of fields is counted as bad with its line
number. Blank lines are kept as rows (of empty cells) so that the rows of the file map
to its lines (quoted line breaks inside a field are not supported).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from gpufleet.errors import InputError, Problem
from gpufleet.traces.report import ReadReport

BLOCK_BYTES = 4 << 20


@dataclass
class Batch:
    """Consecutive good-shaped rows of the file, as text columns.

    Attributes:
        columns: canonical field name -> Arrow string array (nulls for empty cells).
        first_row: index of the batch's first row among the rows the reader kept.
    """

    columns: dict[str, pa.Array]
    first_row: int
    _skipped_lines: list[int]
    line_numbers: np.ndarray | None = None
    """Explicit line of each row (readers that know them, e.g. JSON Lines)."""
    expected_rows: int | None = None
    """The reader's estimate of the file's data rows (None when it cannot tell)."""

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def lines(self, rows: np.ndarray) -> np.ndarray:
        """1-based file line of the batch's rows `rows` (the header is line 1)."""
        if self.line_numbers is not None:
            return self.line_numbers[np.asarray(rows, dtype=np.int64)]
        kept = self.first_row + np.asarray(rows, dtype=np.int64)
        skipped = np.array(self._skipped_lines, dtype=np.int64)
        line = kept + 2
        # Rows of the wrong shape were dropped by the parser: each one before a row
        # pushes it one line further down. Iterate to the fixed point.
        while True:
            moved = kept + 2 + np.searchsorted(skipped, line, side="right")
            if np.array_equal(moved, line):
                return line
            line = moved


def open_binary(path: Path) -> io.BufferedIOBase:
    """The file for reading bytes, decompressing .gz and .bz2.

    A Python file object, not an Arrow input stream: Arrow reads its own streams ahead,
    buffering most of a large file at once, while it reads a Python file block by block.
    """
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix.lower(), open)
    try:
        return opener(path, "rb")  # type: ignore[return-value]
    except FileNotFoundError:
        raise InputError([Problem("trace file not found", file=str(path))]) from None
    except OSError as exc:
        raise InputError([Problem(f"cannot read trace: {exc.strerror or exc}", file=str(path))]) from None


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file (first line), decompressing .gz/.bz2 files."""
    try:
        with open_binary(path) as stream:
            first = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="").readline()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError([Problem(f"cannot read trace: {exc}", file=str(path))]) from None
    if not first.strip():
        raise InputError([Problem("empty file: expected a header line with column names", file=str(path), line=1)])
    return [name.strip() for name in next(csv.reader([first]))]


def resolve_columns(path: Path, header: list[str], wanted: dict[str, str | None],
                    optional: set[str]) -> dict[str, str]:
    """Map canonical fields to header names; a required or mapped field must exist.

    Args:
        wanted: canonical field -> header name it is mapped to (None: not in this trace).
        optional: fields read only if their header exists (unless explicitly mapped).
    """
    found: dict[str, str] = {}
    missing: list[str] = []
    for canonical, name in wanted.items():
        if name is None:
            continue
        if name in header:
            found[canonical] = name
        elif canonical not in optional:
            missing.append(f"{canonical} (column {name!r})")
    if missing:
        raise InputError([Problem(f"missing columns: {', '.join(missing)}; the header has: {', '.join(header)}",
                                  file=str(path), line=1)])
    return found


def _chunks(source: io.BufferedIOBase, block_bytes: int) -> Iterator[bytes]:
    """The rest of the file in pieces of about `block_bytes`, each ending at a line break."""
    rest = b""
    while True:
        data = source.read(block_bytes)
        if not data:
            if rest:
                yield rest
            return
        data = rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        yield data[: cut + 1]
        rest = data[cut + 1:]


def stream_csv(path: Path, columns: dict[str, str], report: ReadReport, header: list[str],
               block_bytes: int = BLOCK_BYTES) -> Iterator[Batch]:
    """Yield batches of the mapped columns (canonical -> header name), counting rows into `report`.

    The file is cut into pieces at line breaks here and each piece parsed on its own:
    Arrow's own streaming reader reads ahead of the batches it has handed out (most of a
    large file), so memory would follow the file's size.
    """
    skipped: list[int] = []
    first_line = 2  # the first line of the current piece (the header is line 1)

    def on_invalid(row: pacsv.InvalidRow) -> str:
        line = None if row.number is None else first_line + row.number - 1
        if line is not None:
            skipped.append(line)
        report.rows += 1
        report.add_bad(line, f"expected {row.expected_columns} fields, found {row.actual_columns}")
        return "skip"

    by_header = {name: canonical for canonical, name in columns.items()}
    read_options = pacsv.ReadOptions(use_threads=False, column_names=header)
    parse_options = pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False)
    convert_options = pacsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                           include_columns=list(by_header), strings_can_be_null=True,
                                           null_values=[""], quoted_strings_can_be_null=True)
    size = path.stat().st_size if path.suffix.lower() not in (".gz", ".bz2") else None
    expected = None
    kept = 0
    with open_binary(path) as source:
        try:
            source.readline()  # the header, read by read_header
            for piece in _chunks(source, block_bytes):
                table = pacsv.read_csv(io.BytesIO(piece), read_options=read_options, parse_options=parse_options,
                                       convert_options=convert_options)
                first_line += piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)
                if not table.num_rows:
                    continue
                if expected is None and size is not None:
                    # Pieces are about block_bytes each: the first one's rows scale to the whole file.
                    expected = int(table.num_rows * max(size / len(piece), 1.0) * 1.05) + 16
                batch = Batch({by_header[name]: table.column(name).combine_chunks() for name in table.column_names},
                              kept, skipped, expected_rows=expected)
                kept += table.num_rows
                report.rows += table.num_rows
                yield batch
        except (pa.ArrowInvalid, OSError, EOFError) as exc:
            raise InputError([Problem(f"cannot parse as CSV: {exc}", file=str(path))]) from None


def blank_rows(batch: Batch) -> np.ndarray:
    """Rows whose every cell is empty (blank lines)."""
    blank = np.ones(len(batch), dtype=bool)
    for column in batch.columns.values():
        blank &= column.is_null().to_numpy(zero_copy_only=False)
    return blank
