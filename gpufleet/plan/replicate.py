"""Replications of one scenario: N seeds (seed, seed+1, ...) through the store, and every
headline metric as a mean with a Student t interval (`results.replications`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gpufleet.plan.runner import ProgressFn, Runner
from gpufleet.results.replications import CONFIDENCE, ReplicationSummary
from gpufleet.results.run_result import jsonable
from gpufleet.spec.scenario import Scenario
from gpufleet.staging import staged_directory
from gpufleet.store.keys import RunSpec
from gpufleet.store.store import RunRecord, RunStore


def replication_seeds(first: int, replications: int) -> list[int]:
    """Replication i runs seed first + i."""
    return [first + i for i in range(replications)]


@dataclass
class Replicated:
    """N runs of one scenario: their records in the store and what they say together."""

    scenario: Scenario
    seeds: list[int]
    until: datetime | None
    records: list[RunRecord]
    store: RunStore
    confidence: float = CONFIDENCE

    @property
    def ok(self) -> list[RunRecord]:
        return [record for record in self.records if record.ok]

    @property
    def failed(self) -> list[RunRecord]:
        return [record for record in self.records if not record.ok]

    def summary(self) -> ReplicationSummary:
        return ReplicationSummary(self.scenario.name, [r.seed for r in self.ok],
                                  self.until.isoformat() if self.until else None,
                                  [r.metrics for r in self.ok], self.confidence)

    def summaries(self) -> list[dict[str, Any]]:
        """Each successful run's full summary.json (spread by size class, serving, money)."""
        return [self.store.load_summary(record.key) for record in self.ok]

    def as_dict(self) -> dict[str, Any]:
        data = self.summary().as_dict()
        data["runs"] = [{"seed": r.seed, "key": r.key, "status": r.status, "wall_s": r.wall_s, "error": r.error}
                        for r in self.records]
        return data

    def table(self) -> pa.Table:
        """One row per replication: seed, key, status, wall time and every metric."""
        names = list(dict.fromkeys(name for record in self.records for name in record.metrics))
        return pa.Table.from_pylist([
            {"seed": r.seed, "key": r.key, "status": r.status, "wall_s": r.wall_s,
             **{name: r.metrics.get(name) for name in names}} for r in self.records])

    def write(self, out_dir: str | Path, report: Callable[[Replicated, Path], None] | None = None) -> Path:
        """replications.json, replications.parquet and (given a writer) report.html; whole or not at all."""
        with staged_directory(out_dir) as folder:
            (folder / "replications.json").write_text(json.dumps(jsonable(self.as_dict()), indent=2) + "\n")
            pq.write_table(self.table(), folder / "replications.parquet")
            if report is not None:
                report(self, folder / "report.html")
        return Path(out_dir)


def replicate(scenario: Scenario, replications: int, runner: Runner, seed: int | None = None,
              until: datetime | None = None, progress: ProgressFn | None = None,
              confidence: float = CONFIDENCE) -> Replicated:
    """Run `replications` seeds of `scenario` (from `seed`, default the scenario's) into the store."""
    seeds = replication_seeds(scenario.seed if seed is None else seed, replications)
    specs = [RunSpec.of(scenario, s, until) for s in seeds]
    outcomes = runner.run(specs, progress)
    return Replicated(scenario, seeds, until, [outcomes[spec.key].record for spec in specs], runner.store, confidence)
