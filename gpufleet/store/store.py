"""A directory of runs: `<root>/runs/<key>/`, each written whole or not at all.

A run's folder holds the files `RunResult.write_tables` writes (summary.json, the Parquet
tables, scenario.json) and `meta.json`: the key, scenario, seed, stop date, version,
engine, status (`ok` or `failed`), the error of a failed run, when it started, how long
it took and its headline metrics. Every write goes through `staged_directory` (a hidden
sibling renamed into place), so a reader sees a whole run or none; a writer killed
mid-write leaves only a hidden `.<key>.*` folder, which `remove_debris` deletes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpufleet.errors import InputError, Problem
from gpufleet.results.metrics import headline_metrics
from gpufleet.results.run_result import jsonable
from gpufleet.staging import staged_directory
from gpufleet.store.keys import RunSpec

if TYPE_CHECKING:
    from gpufleet.results.run_result import RunResult

DEFAULT_STORE = Path("runs") / "store"
"""Where the CLI keeps runs unless told otherwise (`--store`, or GPUFLEET_STORE)."""

META = "meta.json"


@dataclass
class RunRecord:
    """What the store knows about one run (its meta.json)."""

    key: str
    scenario: str
    seed: int
    until: str | None
    version: str
    engine: str
    status: str  # "ok" or "failed"
    started: str  # ISO date-time (UTC) the run began
    wall_s: float
    events: int = 0
    error: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    scenario_key: str = ""  # hash of the scenario alone: its replications share it

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


class RunStore:
    """Runs on disk under `root`, found by key."""

    def __init__(self, root: str | Path = DEFAULT_STORE) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    def path(self, key: str) -> Path:
        return self.runs_dir / key

    def record(self, key: str) -> RunRecord | None:
        """The run's record, or None when the store has no whole run under `key`."""
        try:
            data = json.loads((self.path(key) / META).read_text())
        except (OSError, ValueError):
            return None
        return RunRecord(**data)

    def has(self, key: str) -> bool:
        """Whether a successful run is stored under `key` (a failed one is tried again)."""
        record = self.record(key)
        return record is not None and record.ok

    def keys(self) -> list[str]:
        """Keys of the stored runs (folders being written are hidden and not listed)."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(entry.name for entry in os.scandir(self.runs_dir)
                      if entry.is_dir() and not entry.name.startswith("."))

    def records(self) -> Iterator[RunRecord]:
        for key in self.keys():
            record = self.record(key)
            if record is not None:
                yield record

    def resolve(self, prefix: str) -> str:
        """The key that starts with `prefix` (a unique prefix is enough)."""
        matches = [key for key in self.keys() if key.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        what = "no run" if not matches else f"{len(matches)} runs"
        raise InputError([Problem(f"{what} with a key starting {prefix!r} (`gpufleet runs list` shows the keys)",
                                  file=str(self.root))])

    def put(self, spec: RunSpec, result: RunResult, started: str, wall_s: float) -> RunRecord:
        """Store a finished run whole: tables, summary, scenario and meta.json."""
        record = RunRecord(spec.key, result.scenario.name, spec.seed, spec.until, spec.version, spec.engine, "ok",
                           started, wall_s, result.events, None, headline_metrics(result.summary), spec.scenario_key)
        return self._write(record, lambda folder: result.write_tables(folder))

    def put_files(self, record: RunRecord, files: dict[str, bytes]) -> RunRecord:
        """Store a run whose files were made elsewhere (a worker without the store's disk)."""

        def write(folder: Path) -> None:
            for name, data in files.items():
                (folder / name).write_bytes(data)

        return self._write(record, write)

    def put_failure(self, spec: RunSpec, scenario: str, error: str, started: str, wall_s: float) -> RunRecord:
        """Record a run that raised, with its error; a successful run under the key is kept."""
        record = RunRecord(spec.key, scenario, spec.seed, spec.until, spec.version, spec.engine, "failed",
                           started, wall_s, 0, error, {}, spec.scenario_key)
        if self.has(spec.key):
            return self.record(spec.key)  # type: ignore[return-value]
        return self._write(record, lambda folder: (folder / "scenario.json").write_text(spec.scenario_json + "\n"))

    def _write(self, record: RunRecord, fill: Any) -> RunRecord:  # noqa: ANN401 - a callable
        try:
            with staged_directory(self.path(record.key)) as folder:
                fill(folder)
                (folder / META).write_text(json.dumps(record.as_dict(), indent=2) + "\n")
        except OSError:
            # Another writer put the same key first (same key, same results): keep theirs.
            existing = self.record(record.key)
            if existing is None or (record.ok and not existing.ok):
                raise
            return existing
        return record

    def debris(self, keys: list[str] | None = None) -> list[Path]:
        """Hidden folders left by writers that were killed mid-write (all, or of `keys`)."""
        if not self.runs_dir.is_dir():
            return []
        prefixes = tuple(f".{key}." for key in keys) if keys is not None else (".",)
        return sorted(Path(entry.path) for entry in os.scandir(self.runs_dir)
                      if entry.is_dir() and entry.name.startswith(prefixes))

    def remove_debris(self, keys: list[str] | None = None) -> int:
        """Delete what killed writers left; call it only when no writer of these keys runs."""
        found = self.debris(keys)
        for folder in found:
            shutil.rmtree(folder, ignore_errors=True)
        return len(found)

    def load_summary(self, key: str) -> dict[str, Any]:
        return json.loads((self.path(key) / "summary.json").read_text())

    def table_path(self, key: str, name: str) -> Path:
        return self.path(key) / f"{name}.parquet"
