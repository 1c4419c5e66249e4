"""The store's catalog: one row per run, a Parquet file rebuilt from the runs' meta.json.

DuckDB reads it, and the runs' own Parquet tables, read-only: no live database file is
shared by writers. Workers write only their runs; whoever reads refreshes the catalog
(rows for new or changed runs, none for runs gone) and rewrites it whole through
`staged_directory`, so a lost or stale catalog is rebuilt from the runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from gpufleet.errors import InputError, Problem
from gpufleet.results.metrics import HEADLINE
from gpufleet.staging import staged_directory
from gpufleet.store.store import META, RunStore

CATALOG_DIR = "catalog"
CATALOG_FILE = "catalog.parquet"
TABLES = ("jobs", "timeseries", "ledger", "failures", "serving", "serving_monthly", "contracts_ledger")
"""Per-run tables exposed as DuckDB views (with a `run` column holding the key)."""

SCHEMA = pa.schema([
    ("key", pa.string()), ("scenario", pa.string()), ("scenario_key", pa.string()), ("seed", pa.int64()),
    ("until", pa.string()),
    ("version", pa.string()), ("engine", pa.string()), ("status", pa.string()), ("error", pa.string()),
    ("started", pa.string()), ("wall_s", pa.float64()), ("events", pa.int64()),
    *[(name, pa.float64()) for name in HEADLINE],
    ("metrics", pa.map_(pa.string(), pa.float64())),
    ("meta_mtime_ns", pa.int64()),
])


def catalog_path(store: RunStore) -> Path:
    return store.root / CATALOG_DIR / CATALOG_FILE


def _row(store: RunStore, key: str) -> dict[str, Any] | None:
    record = store.record(key)
    if record is None:
        return None
    row = {name: getattr(record, name) for name in
           ("key", "scenario", "scenario_key", "seed", "until", "version", "engine", "status", "error", "started",
            "wall_s", "events")}
    row.update({name: record.metrics.get(name) for name in HEADLINE})
    row["metrics"] = [(name, value) for name, value in record.metrics.items() if value is not None]
    row["meta_mtime_ns"] = (store.path(key) / META).stat().st_mtime_ns
    return row


def refresh(store: RunStore) -> pa.Table:
    """The catalog, brought up to date with the runs on disk (rewritten only when it changed)."""
    path = catalog_path(store)
    old: dict[str, dict[str, Any]] = {}
    try:
        for row in pq.read_table(path).to_pylist():
            old[row["key"]] = row
    except (OSError, pa.ArrowInvalid):
        old = {}  # lost or unreadable: rebuilt from the runs
    rows, changed = [], False
    for key in store.keys():
        meta = store.path(key) / META
        try:
            mtime = meta.stat().st_mtime_ns
        except OSError:
            continue
        known = old.pop(key, None)
        if known is not None and known["meta_mtime_ns"] == mtime:
            known["metrics"] = list(known["metrics"].items()) if isinstance(known["metrics"], dict) \
                else known["metrics"]
            rows.append(known)
            continue
        row = _row(store, key)
        if row is not None:
            rows.append(row)
            changed = True
    changed = changed or bool(old) or not path.exists()
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    if changed:
        try:
            with staged_directory(path.parent) as folder:
                pq.write_table(table, folder / CATALOG_FILE)
        except OSError:
            pass  # another reader rewrote it at the same moment; the next read brings it up to date
    return table


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(store: RunStore) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the views `runs` (the catalog) and, over every run's Parquet
    files, `jobs`, `timeseries`, `ledger`, `failures`, `serving`, `serving_monthly`, `contracts_ledger`."""
    refresh(store)
    connection = duckdb.connect(":memory:")
    connection.execute(f"CREATE VIEW runs AS SELECT * EXCLUDE (meta_mtime_ns) FROM read_parquet("
                       f"{_quote(catalog_path(store))})")
    keys = store.keys()
    for name in TABLES:
        files = [store.table_path(key, name) for key in keys]
        files = [path for path in files if path.exists()]
        if not files:
            continue
        listed = "[" + ", ".join(_quote(path) for path in files) + "]"
        connection.execute(
            f"CREATE VIEW {name} AS SELECT regexp_extract(filename, '([0-9a-f]+){os.sep}{name}.parquet$', 1) "
            f"AS run, * EXCLUDE (filename) FROM read_parquet({listed}, filename = true, union_by_name = true)")
    return connection


def query(store: RunStore, sql: str) -> pa.Table:
    """Run one SQL query over the store's views; a bad query is an InputError."""
    connection = connect(store)
    try:
        relation = connection.sql(sql)
        if relation is None:  # a statement with no result
            return pa.table({})
        return relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    except duckdb.Error as error:
        raise InputError([Problem(str(error).strip(), file="SQL")]) from None
    finally:
        connection.close()
