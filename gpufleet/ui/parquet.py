"""Reading the store's Parquet files with DuckDB: in memory, read-only, only the columns
and rows a page needs (the files are immutable once written: a run is renamed into place
whole). Every statement takes its values as parameters; column names come from fixed
lists or from the file itself, never from a request."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from gpufleet.ui.cache import Cache

_DATABASE: duckdb.DuckDBPyConnection | None = None
_DATABASE_LOCK = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """A connection of its own (one per request: a connection is not shared across threads)
    to the process's one in-memory DuckDB: a cursor costs microseconds, a new database tens
    of milliseconds.

    Statistics propagation is off: Parquet's min/max leave NaN out, and DuckDB (2.0) folds
    `isnan(x)` and `NULLIF(x, 'NaN')` to "never" from them, so a job that never started
    (wait NaN) would sort first and pass every "waited at least" filter."""
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is None:
            _DATABASE = duckdb.connect(":memory:", config={"threads": 1,
                                                           "disabled_optimizers": "statistics_propagation"})
        return _DATABASE.cursor()


def quoted(name: str) -> str:
    """A column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def query(connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pa.Table:
    """One statement's rows as an Arrow table."""
    return connection.sql(sql, params=list(params)).to_arrow_table()


def rows(connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return connection.sql(sql, params=list(params)).fetchall()


def columns_of(connection: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The top-level columns of a Parquet file."""
    return [str(row[0]) for row in rows(connection, "DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])]


_COLUMNS: Cache[tuple[str, int], list[str]] = Cache(4096)


def file_columns(path: Path) -> list[str]:
    """`columns_of` a file, read once per version of the file (a run stored again is a new one)."""

    def read() -> list[str]:
        connection = connect()
        try:
            return columns_of(connection, path)
        finally:
            connection.close()

    return _COLUMNS.get((str(path), path.stat().st_mtime_ns), read)


def read_table(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """The columns of a Parquet file that exist among `columns` (all when None)."""
    connection = connect()
    try:
        chosen = "*"
        if columns is not None:
            present = set(file_columns(path))
            chosen = ", ".join(quoted(name) for name in columns if name in present) or "*"
        return query(connection, f"SELECT {chosen} FROM read_parquet(?)", [str(path)])
    finally:
        connection.close()
