"""The paginated tables: runs (the store's catalog, and the dashboard's runs in progress) and
one run's jobs, filtered, sorted and cut into pages by DuckDB. Sort columns come from fixed
lists; filter values go in as parameters."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from gpufleet.catalog.size_class import LABELS
from gpufleet.results.metrics import HEADLINE
from gpufleet.store.catalog import refresh
from gpufleet.store.store import RunStore
from gpufleet.ui.cache import Cache
from gpufleet.ui.parquet import connect, file_columns, query, quoted, rows

LIST_METRICS = ("utilisation", "wait_mean_h", "wait_p95_h", "goodput", "serving_slo", "cost_usd")
"""Headline metrics shown in the runs list."""
RUN_SORTS = ("started", "scenario", "seed", "status", "wall_s", "events", *LIST_METRICS)
RUN_COLUMNS = ("key", "scenario", "seed", "until", "version", "engine", "status", "error", "started", "wall_s",
               "events", *HEADLINE, "job")
JOB_COLUMNS = ("job_id", "name", "workload", "team", "queue", "gpus", "size_class", "submit_time", "submit_s",
               "start_s", "end_s", "wait_s", "run_s", "jct_s", "status", "reason", "reasons", "pool", "preemptions",
               "interruptions")
JOB_SORTS = ("job_id", "name", "queue", "gpus", "submit_time", "wait_s", "run_s", "jct_s", "status", "pool",
             "preemptions", "interruptions")
FLOAT_SORTS = frozenset({"wait_s", "run_s", "jct_s", "wall_s", *LIST_METRICS})
EXTRA_SCHEMA = pa.schema([("key", pa.string()), ("scenario", pa.string()), ("seed", pa.int64()),
                          ("until", pa.string()), ("version", pa.string()), ("engine", pa.string()),
                          ("status", pa.string()), ("error", pa.string()), ("started", pa.string()),
                          ("wall_s", pa.float64()), ("events", pa.int64()), ("job", pa.string())])
"""Runs the dashboard has started and not yet stored (running, waiting, interrupted, cancelled)."""


class BadQueryError(ValueError):
    """A filter or sort a table cannot take (a date that is not one, a column it does not have)."""


@dataclass(frozen=True)
class Page:
    """One page of a table, and how many rows match in all."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


@dataclass(frozen=True)
class RunFilters:
    """The runs list's search box and filters (dates: when a run started, UTC, inclusive)."""

    search: str = ""
    scenario: str = ""
    status: str = ""
    engine: str = ""
    since: str = ""
    until: str = ""

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.search:
            clauses.append("(contains(lower(key), lower(?)) OR contains(lower(scenario), lower(?)) "
                           "OR contains(lower(coalesce(error, '')), lower(?)))")
            params += [self.search] * 3
        for column in ("scenario", "status", "engine"):
            value = getattr(self, column)
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        for bound, operator in ((self.since, ">="), (self.until, "<=")):
            if bound:
                try:
                    date.fromisoformat(bound)
                except ValueError:
                    raise BadQueryError(f"{bound!r} is not a date (YYYY-MM-DD)") from None
                clauses.append(f"substr(started, 1, 10) {operator} ?")
                params.append(bound)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class Catalog:
    """The store's catalog (`store.catalog.refresh`), brought up to date at most once a second:
    a page under load does not stat every run's meta.json on every request."""

    def __init__(self, store: RunStore, every_s: float = 1.0) -> None:
        self.store, self.every_s = store, every_s
        self._lock = threading.Lock()
        self._table: pa.Table | None = None
        self._at = -math.inf
        self.generation = 0
        """Changes when the catalog does: pages of the runs list are kept per generation."""
        self.pages: Cache[tuple[Any, ...], tuple[Page, dict[str, list[str]]]] = Cache(256)

    def table(self) -> pa.Table:
        with self._lock:
            if self._table is None or time.monotonic() - self._at >= self.every_s:
                fresh = refresh(self.store)
                if self._table is None or not fresh.equals(self._table):
                    self._table = fresh
                    self.generation += 1
                    self.pages.clear()
                self._at = time.monotonic()
            return self._table

    def invalidate(self) -> None:
        with self._lock:
            self._at = -math.inf


def _order(sort: str, allowed: tuple[str, ...], descending: bool, tie: str) -> str:
    if sort not in allowed:
        raise BadQueryError(f"cannot sort by {sort!r}; choose one of: {', '.join(allowed)}")
    column = f"NULLIF({quoted(sort)}, 'NaN'::DOUBLE)" if sort in FLOAT_SORTS else quoted(sort)
    return f"{column} {'DESC' if descending else 'ASC'} NULLS LAST, {tie}"


def runs_page(catalog: pa.Table, extra: list[dict[str, Any]], filters: RunFilters, sort: str = "started",
              descending: bool = True, page: int = 1, size: int = 50) -> tuple[Page, dict[str, list[str]]]:
    """A page of runs (stored, and the dashboard's unfinished ones), and the values each filter offers."""
    connection = connect()
    try:
        connection.register("catalog", catalog)
        connection.register("extra", pa.Table.from_pylist(extra, schema=EXTRA_SCHEMA))
        present = set(catalog.column_names)
        stored = ", ".join(quoted(c) if c in present else f"NULL AS {quoted(c)}" for c in RUN_COLUMNS if c != "job")
        connection.execute(f"CREATE TEMP VIEW all_runs AS SELECT {stored}, NULL::VARCHAR AS job FROM catalog "
                           "WHERE key NOT IN (SELECT key FROM extra) UNION ALL BY NAME SELECT * FROM extra")
        where, params = filters.where()
        total = rows(connection, f"SELECT count(*) FROM all_runs{where}", params)[0][0]
        order = _order(sort, RUN_SORTS, descending, "key")
        page = max(1, min(page, max(1, math.ceil(total / size))))
        table = query(connection, f"SELECT * FROM all_runs{where} ORDER BY {order} LIMIT ? OFFSET ?",
                      [*params, size, (page - 1) * size])
        facets = {column: [str(row[0]) for row in rows(connection, f"SELECT DISTINCT {column} FROM all_runs "
                                                                    f"WHERE {column} IS NOT NULL ORDER BY 1")]
                  for column in ("scenario", "status", "engine")}
        return Page(table.to_pylist(), int(total), page, size), facets
    finally:
        connection.close()


@dataclass(frozen=True)
class JobFilters:
    """The jobs table's filters: a name, a status, a size class, a queue, a reason it waited, a least wait."""

    search: str = ""
    status: str = ""
    size_class: str = ""
    queue: str = ""
    waited_for: str = ""
    min_wait_h: float | None = None
    present: frozenset[str] = field(default_factory=frozenset)

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.search:
            clauses.append("(contains(lower(name), lower(?)) OR CAST(job_id AS VARCHAR) = ?)")
            params += [self.search, self.search]
        for column in ("status", "size_class", "queue"):
            value = getattr(self, column)
            if value and column in self.present:
                clauses.append(f"{quoted(column)} = ?")
                params.append(value)
        if self.waited_for:
            clauses.append("(list_contains(list_transform(reasons, lambda r: r.reason), ?) OR reason = ?)")
            params += [self.waited_for, self.waited_for]
        if self.min_wait_h is not None:
            if not math.isfinite(self.min_wait_h):
                raise BadQueryError("the least wait must be a number of hours")
            clauses.append("NULLIF(wait_s, 'NaN'::DOUBLE) >= ?")
            params.append(self.min_wait_h * 3600.0)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def jobs_page(path: Path, filters: JobFilters, sort: str = "job_id", descending: bool = False, page: int = 1,
              size: int = 50) -> Page:
    """A page of a run's jobs."""
    connection = connect()
    try:
        present = set(file_columns(path))
        filters = replace(filters, present=frozenset(present))
        chosen = ", ".join(quoted(c) for c in JOB_COLUMNS if c in present)
        where, params = filters.where()
        total = _COUNTS.get((str(path), _version(path), where, tuple(params)), lambda: rows(
            connection, f"SELECT count(*) FROM read_parquet(?){where}", [str(path), *params])[0][0])
        page = max(1, min(page, max(1, math.ceil(total / size))))
        order = _order("gpus" if sort == "size_class" else sort, JOB_SORTS, descending, "job_id")
        table = query(connection, f"SELECT {chosen} FROM read_parquet(?){where} ORDER BY {order} LIMIT ? OFFSET ?",
                      [str(path), *params, size, (page - 1) * size])
        return Page(table.to_pylist(), int(total), page, size)
    finally:
        connection.close()


_COUNTS: Cache[tuple[Any, ...], int] = Cache(1024)
"""Rows matching a filter, by file, its version and the filter (the files do not change in place)."""
_FACETS: Cache[tuple[str, int], dict[str, list[str]]] = Cache(64)


def _version(path: Path) -> int:
    """Changes when the file is replaced (a run stored again under its key)."""
    return path.stat().st_mtime_ns


def job_facets(path: Path) -> dict[str, list[str]]:
    """The statuses, size classes, queues and wait reasons a run's jobs have (for the filters)."""
    return _FACETS.get((str(path), _version(path)), lambda: _job_facets(path))


def _job_facets(path: Path) -> dict[str, list[str]]:
    connection = connect()
    try:
        present = set(file_columns(path))
        facets: dict[str, list[str]] = {}
        for column in ("status", "size_class", "queue"):
            if column in present:
                facets[column] = [str(r[0]) for r in rows(connection, f"SELECT DISTINCT {quoted(column)} FROM "
                                                                       "read_parquet(?) ORDER BY 1", [str(path)])]
        if "size_class" in facets:
            facets["size_class"].sort(key=lambda label: LABELS.index(label) if label in LABELS else 99)
        reasons = rows(connection, "SELECT DISTINCT r FROM (SELECT unnest(list_transform(reasons, lambda x: "
                                   "x.reason)) AS r FROM read_parquet(?) UNION SELECT reason FROM read_parquet(?)) "
                                   "WHERE r <> '' ORDER BY 1", [str(path), str(path)])
        facets["waited_for"] = [str(r[0]) for r in reasons]
        return facets
    finally:
        connection.close()


def job_row(path: Path, job_id: int) -> dict[str, Any] | None:
    """One job's whole row."""
    connection = connect()
    try:
        found = query(connection, "SELECT * FROM read_parquet(?) WHERE job_id = ?", [str(path), job_id]).to_pylist()
        return found[0] if found else None
    finally:
        connection.close()


def context_series(path: Path, start_s: float, end_s: float, points: int = 1500) -> pa.Table:
    """The fleet's hourly series over [start_s, end_s] (daily or coarser means when long)."""
    connection = connect()
    try:
        columns = set(file_columns(path))
        wanted = [c for c in ("startable_gpus", "queued_jobs", "queued_gpus", "allocated_gpus", "installed_gpus")
                  if c in columns]
        span = max(end_s - start_s, 1.0)
        bucket = max(3600.0, math.ceil(span / points / 3600.0) * 3600.0)
        averages = ", ".join(f"avg({quoted(c)}) AS {quoted(c)}" for c in wanted)
        return query(connection, f"SELECT min(t_s) AS t_s, {averages} FROM read_parquet(?) "
                                 "WHERE t_s >= ? AND t_s <= ? GROUP BY floor(t_s / ?) ORDER BY 1",
                     [str(path), start_s, end_s, bucket])
    finally:
        connection.close()


def wait_breakdown(row: dict[str, Any], horizon_s: float) -> list[tuple[str, float]]:
    """Why the job waited before it first started: seconds under each reason (most first).

    The job's `reasons` list records the reason each time it changed; each holds until the
    next, or the first start (or, for a job still waiting, the end of the run)."""
    history = row.get("reasons") or []
    first_start = row.get("start_s")
    stop = first_start if first_start is not None and not math.isnan(first_start) else horizon_s
    totals: dict[str, float] = {}
    for index, entry in enumerate(history):
        begin = entry["t_s"]
        if begin >= stop:
            break
        end = history[index + 1]["t_s"] if index + 1 < len(history) else stop
        totals[entry["reason"]] = totals.get(entry["reason"], 0.0) + max(0.0, min(end, stop) - begin)
    return sorted(totals.items(), key=lambda item: -item[1])
