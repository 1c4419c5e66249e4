"""One run as a task an executor can ship anywhere, and what comes back.

A task carries the scenario as canonical JSON, the seed and the stop date (the run's key
follows from them), and the run function is passed in (`api.run`, pickled by name), so
this layer never imports the API. The worker stores the run itself when it sees the
store's disk, or sends its files back for the driver to store.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gpufleet.results.metrics import headline_metrics
from gpufleet.results.run_result import RunResult
from gpufleet.spec.scenario import Scenario
from gpufleet.store.keys import RunSpec
from gpufleet.store.store import RunRecord, RunStore

RunFn = Callable[..., RunResult]
"""`api.run`: (scenario, seed=..., until=...) -> RunResult."""


@dataclass(frozen=True)
class RunTask:
    """A run to do, and where its results go."""

    spec: RunSpec
    store_root: str
    send_back: bool = False

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass
class RunOutcome:
    """How a run ended: its record (metrics, timings, or the error), and its files when sent back."""

    record: RunRecord
    skipped: bool = False
    files: dict[str, bytes] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def ok(self) -> bool:
        return self.record.ok


OnDone = Callable[[RunOutcome], None]
"""What an executor calls with each outcome as it arrives."""


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _error_text(error: BaseException) -> str:
    lines = traceback.format_exception(error)
    return f"{type(error).__name__}: {error}\n" + "".join(lines[-6:])


def failed_record(spec: RunSpec, scenario: str, error: str, started: str, wall_s: float) -> RunRecord:
    return RunRecord(spec.key, scenario, spec.seed, spec.until, spec.version, spec.engine, "failed", started,
                     wall_s, 0, error, {}, spec.scenario_key)


def execute(run_fn: RunFn, task: RunTask) -> RunOutcome:
    """Run one task and store it (or send its files back). Any error is recorded, not raised."""
    started, began = _now(), time.perf_counter()
    spec = task.spec
    store = RunStore(task.store_root)
    name = "?"
    try:
        scenario = Scenario.model_validate_json(spec.scenario_json)
        name = scenario.name
        until = datetime.fromisoformat(spec.until) if spec.until else None
        result = run_fn(scenario, seed=spec.seed, until=until)
    except Exception as error:  # a failed run is recorded with its error and the sweep goes on
        record = failed_record(spec, name, _error_text(error), started, time.perf_counter() - began)
        return RunOutcome(record if task.send_back else store.put_failure(spec, name, record.error or "",
                                                                           started, record.wall_s))
    wall_s = time.perf_counter() - began
    if not task.send_back:
        return RunOutcome(store.put(spec, result, started, wall_s))
    record = RunRecord(spec.key, name, spec.seed, spec.until, spec.version, spec.engine, "ok", started, wall_s,
                       result.events, None, headline_metrics(result.summary), spec.scenario_key)
    with tempfile.TemporaryDirectory() as folder:
        result.write_tables(Path(folder))
        files = {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}
    return RunOutcome(record, files=files)
