"""A stored run for the pages: found by key (never by a path from a request), and read back
as the `RunResult` the report's figures take, with only the columns they draw."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from gpufleet.errors import InputError
from gpufleet.results.run_result import RunResult
from gpufleet.results.serving import ServingResults
from gpufleet.spec.scenario import Scenario
from gpufleet.store.store import META, RunRecord, RunStore
from gpufleet.ui.cache import Cache
from gpufleet.ui.parquet import read_table
from gpufleet.ui.security import inside

KEY = re.compile(r"^[0-9a-f]{4,20}$")
FIGURE_JOB_COLUMNS = ("wait_s", "size_class", "ettr")
"""The job columns the report's figures draw (the tables come from summary.json)."""
SERVING_COLUMNS = ("service", "start_s", "end_s", "demand_rps", "output_tokens_per_request", "capacity_tokens_per_s",
                   "served_output_tokens", "ready_replicas", "held_gpus")
FAILURE_COLUMNS = ("time", "cause")


class RunNotFoundError(LookupError):
    """No whole run under that key (or the text is no key at all)."""


def resolve(store: RunStore, text: str) -> str:
    """The key of the stored run that `text` names (a key, or a unique prefix of one)."""
    if not KEY.match(text):
        raise RunNotFoundError(text)
    try:
        return store.resolve(text)  # matched against the folder names the store lists
    except InputError:
        raise RunNotFoundError(text) from None


def record_of(store: RunStore, key: str) -> RunRecord:
    record = store.record(key)
    if record is None:
        raise RunNotFoundError(key)
    return record


def version(store: RunStore, key: str) -> int:
    """Changes when the run is stored again (a failed run replaced by a successful one)."""
    try:
        return (store.path(key) / META).stat().st_mtime_ns
    except OSError:
        raise RunNotFoundError(key) from None


@dataclass(frozen=True)
class StoredRun:
    """A run's record, summary and what its figures need."""

    record: RunRecord
    result: RunResult | None  # None for a failed run
    files: tuple[str, ...]


def load(store: RunStore, key: str) -> StoredRun:
    """Read a run back from the store (a failed run has a record and no result)."""
    record = record_of(store, key)
    folder = store.path(key)
    if not inside(folder, store.runs_dir):  # a link planted in the store leads nowhere
        raise RunNotFoundError(key)
    files = tuple(sorted(path.name for path in folder.iterdir() if not path.name.startswith(".")))
    if not record.ok:
        return StoredRun(record, None, files)
    return StoredRun(record, _result(store, key, record), files)


def _result(store: RunStore, key: str, record: RunRecord) -> RunResult:
    folder = store.path(key)
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text())
    scenario = Scenario.model_validate_json((folder / "scenario.json").read_text())
    failures_path = store.table_path(key, "failures")
    failures = read_table(failures_path, FAILURE_COLUMNS) if failures_path.exists() else \
        pa.table({"time": pa.array([], pa.timestamp("us")), "cause": pa.array([], pa.string())})
    serving = None
    if store.table_path(key, "serving").exists() and "serving" in summary:
        serving = ServingResults(read_table(store.table_path(key, "serving"), SERVING_COLUMNS),
                                 read_table(store.table_path(key, "serving_monthly")),
                                 summary["serving"]["services"])
    contracts_path = store.table_path(key, "contracts_ledger")
    contracts = read_table(contracts_path) if contracts_path.exists() else None
    return RunResult(scenario=scenario, seed=record.seed,
                     jobs=read_table(store.table_path(key, "jobs"), FIGURE_JOB_COLUMNS),
                     timeseries=read_table(store.table_path(key, "timeseries")),
                     ledger=read_table(store.table_path(key, "ledger")), summary=summary, events=record.events,
                     failures=failures, serving=serving, contracts=contracts)


class RunLoader:
    """Stored runs read back, the most recent kept in memory (keyed by the run's version)."""

    def __init__(self, store: RunStore, size: int = 16) -> None:
        self.store = store
        self._cache: Cache[tuple[str, int], StoredRun] = Cache(size)

    def get(self, key: str) -> StoredRun:
        return self._cache.get((key, version(self.store, key)), lambda: load(self.store, key))

    def path(self, key: str, table: str) -> Path:
        """A table of a stored run (the name comes from a fixed list)."""
        return self.store.table_path(key, table)
