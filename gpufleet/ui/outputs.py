"""The many-run outputs in the runs folder: sweeps (`sweep.json`), plans (`plan.json`) and
replication sets (`replications.json`), each a folder written whole by its command. They
are found by listing the folder (hidden folders, being written, are skipped) and named by
those listings only: a name from a request that is not listed is not found."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpufleet.plan.sweep import Point, SweepResult
from gpufleet.plan.sweep_spec import SweepSpec
from gpufleet.spec.scenario import Scenario
from gpufleet.store.store import RunRecord, RunStore
from gpufleet.ui.parquet import connect, query, quoted
from gpufleet.ui.security import inside

KINDS = {"sweep": "sweep.json", "plan": "plan.json", "replications": "replications.json"}


class OutputNotFoundError(LookupError):
    """No such sweep, plan or replication set in the runs folder."""


@dataclass(frozen=True)
class Output:
    """One output folder: its kind, name, when it was written, and its JSON."""

    kind: str
    name: str
    path: Path
    written: float
    data: dict[str, Any]


def find(runs_dir: Path, kind: str) -> list[Output]:
    """Every output of `kind` in the runs folder, the newest first."""
    marker = KINDS[kind]
    found = []
    try:
        entries = list(os.scandir(runs_dir))
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        path = Path(entry.path)
        try:
            stat = (path / marker).stat()
            data = json.loads((path / marker).read_text())
        except (OSError, ValueError):
            continue
        if inside(path, runs_dir) and isinstance(data, dict):
            found.append(Output(kind, entry.name, path, stat.st_mtime, data))
    return sorted(found, key=lambda output: -output.written)


def get(runs_dir: Path, kind: str, name: str) -> Output:
    for output in find(runs_dir, kind):
        if output.name == name:
            return output
    raise OutputNotFoundError(f"no {kind} called {name!r} in {runs_dir}")


def sweep_result(output: Output, store: RunStore) -> SweepResult:
    """The sweep read back from its folder and the run store (its runs' records)."""
    spec = SweepSpec.model_validate(output.data["sweep"])
    labels = [axis.label for axis in spec.axes]
    connection = connect()
    try:
        points_table = query(connection, "SELECT * FROM read_parquet(?) ORDER BY point", [str(output.path /
                                                                                              "table.parquet")])
        runs_table = query(connection, "SELECT point, seed, key FROM read_parquet(?) ORDER BY point, seed",
                           [str(output.path / "runs.parquet")])
    finally:
        connection.close()
    keys: dict[int, list[str]] = {}
    for row in runs_table.to_pylist():
        keys.setdefault(int(row["point"]), []).append(str(row["key"]))
    points = []
    for row in points_table.to_pylist():
        index = int(row["point"])
        error = row.get("error") if row.get("status") == "failed" and not keys.get(index) else None
        points.append(Point(index, {label: row.get(label) for label in labels}, None, error, keys.get(index, [])))
    records: dict[str, RunRecord] = {}
    for point in points:
        for key in point.keys:
            record = store.record(key)
            if record is not None:
                records[key] = record
    seeds = [int(seed) for seed in output.data.get("seeds", [])]
    return SweepResult(spec, _base(output, store, records), seeds, points, records)


def _base(output: Output, store: RunStore, records: dict[str, RunRecord]) -> Scenario:
    """The scenario a sweep's runs ran (a point's: the name and description are the base's)."""
    for key, record in records.items():
        if record.ok:
            return Scenario.model_validate_json((store.path(key) / "scenario.json").read_text())
    raise OutputNotFoundError(f"none of sweep {output.name}'s runs is in the store {store.root}")


PLAN_SORTS = ("total_usd", "status", "plan")


def plans_table(output: Output, sort: str = "total_usd", descending: bool = False) -> list[dict[str, Any]]:
    """Every plan the planner looked at (plans.parquet), cheapest first."""
    path = output.path / "plans.parquet"
    if not path.exists():
        return []
    connection = connect()
    try:
        column = sort if sort in PLAN_SORTS else "total_usd"
        return query(connection, f"SELECT * FROM read_parquet(?) ORDER BY {quoted(column)} "
                                 f"{'DESC' if descending else 'ASC'} NULLS LAST", [str(path)]).to_pylist()
    finally:
        connection.close()


def plan_yaml(output: Output) -> str | None:
    path = output.path / "plan.yaml"
    try:
        return path.read_text(encoding="utf-8") if inside(path, output.path) else None
    except OSError:
        return None
