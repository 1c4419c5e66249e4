"""The worker process of one background job: `python -m gpufleet.ui.worker JOURNAL PARENT_PID`.

It checks the job's scenario (and sweep) again with the editor's checks, runs it through
the run store (runs already stored are skipped), and reports on its standard output, one
JSON object a line: `planned` (the runs' keys), `run_started`, `progress` (the running
run's share of simulated time), `run_done`, `finished` (the output folder), `problems`.
Anything else it would print goes to standard error.

SIGTERM (cancel) stops it between two Python steps: a run being written is removed by
`staged_directory`. It also stops when its parent, the dashboard, goes away.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, NoReturn

from gpufleet.plan.executors import SerialExecutor
from gpufleet.plan.replicate import replicate, replication_seeds
from gpufleet.plan.runner import Progress, Runner
from gpufleet.plan.sweep import Sweep, design_points
from gpufleet.plan.tasks import RunOutcome
from gpufleet.report.replications import write_replication_report
from gpufleet.report.sweep import write_sweep_report
from gpufleet.results.run_result import RunResult
from gpufleet.sim.build import build
from gpufleet.spec.scenario import Scenario
from gpufleet.store.keys import RunSpec
from gpufleet.store.store import RunStore
from gpufleet.ui.editor import check_scenario_text, check_sweep_text
from gpufleet.ui.jobs import EXIT_CANCELLED, EXIT_PROBLEMS, Job
from gpufleet.ui.security import safe_name
from gpufleet.ui.settings import RESERVED

PROGRESS_EVERY_S = 0.2
PROGRESS_EVENTS = 2_000
"""Events between two looks at the clock (the engine's default, 50,000, is a small run's whole life)."""


class Cancelled(BaseException):
    """SIGTERM: not an Exception, so that no `except Exception` records it as a failed run."""


def _on_term(signum: int, frame: FrameType | None) -> NoReturn:
    del signum, frame  # Unused.
    raise Cancelled


def _watch_parent(parent: int) -> None:
    """Stop (as on cancel) when the dashboard that started this worker is gone."""
    while os.getppid() == parent:
        time.sleep(0.25)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10.0)
    os._exit(EXIT_CANCELLED)


class Reporter:
    """One JSON object per line on the protocol stream."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, **event: Any) -> None:  # noqa: ANN401 - JSON values
        with self.lock:
            self.stream.write(json.dumps(event) + "\n")
            self.stream.flush()


def run_function(report: Reporter) -> Callable[..., RunResult]:
    """A run as `api.run` makes it (the layer above this one), telling how far it has got."""

    def run(scenario: Scenario, seed: int | None = None, until: datetime | None = None) -> RunResult:
        horizon = min(until, scenario.end) if until else scenario.end
        total_s = max((horizon - scenario.start).total_seconds(), 1.0)
        last = [0.0]

        def progress(now_s: float, jobs_done: int, events: int) -> None:
            del events  # Unused.
            moment = time.monotonic()
            if moment - last[0] >= PROGRESS_EVERY_S:
                last[0] = moment
                report(type="progress", seed=seed, fraction=min(now_s / total_s, 1.0), jobs=jobs_done)

        report(type="run_started", seed=seed)
        chosen = scenario.seed if seed is None else seed
        gc.disable()  # as api.run does: a run makes millions of objects and almost no cycles
        try:
            simulation = build(scenario, seed=chosen, until=until)
            record = simulation.run(progress, progress_every=PROGRESS_EVENTS)
            return RunResult.from_record(scenario, chosen, simulation.layout, simulation.jobs, record)
        finally:
            gc.enable()

    return run


def _outcome_reporter(report: Reporter) -> Callable[[Progress, RunOutcome], None]:
    def on_done(state: Progress, outcome: RunOutcome) -> None:
        del state  # Unused.
        report(type="run_done", key=outcome.key, status=outcome.record.status, skipped=outcome.skipped,
               seed=outcome.record.seed)

    return on_done


def _free_output(runs_dir: Path, name: str, marker: str) -> bool:
    """Whether the runs folder's `name` may take this output (a new name, or the same kind's)."""
    folder = runs_dir / name
    return safe_name(name) and name not in RESERVED and (not folder.exists() or (folder / marker).is_file())


def run_job(job: Job, report: Reporter) -> int:
    """Do the job; the exit code of the worker."""
    checked = check_scenario_text(job.scenario, tuple(Path(folder) for folder in job.allowed))
    if checked.scenario is None or checked.problems:
        report(type="problems", problems=[str(p) for p in checked.problems])
        return EXIT_PROBLEMS
    scenario = checked.scenario
    until = datetime.fromisoformat(job.until) if job.until else None
    runs_dir = Path(job.runs_dir)
    runner = Runner(RunStore(job.store), SerialExecutor(), run_function(report))
    on_done = _outcome_reporter(report)
    output = None
    if job.kind == "run":
        first = scenario.seed if job.seed is None else job.seed
        seeds = replication_seeds(first, job.replications)
        specs = [RunSpec.of(scenario, seed, until) for seed in seeds]
        report(type="planned", keys=[s.key for s in specs], seeds={s.key: s.seed for s in specs}, total=len(specs))
        replicated = replicate(scenario, job.replications, runner, seed=first, until=until, progress=on_done)
        name = f"{scenario.name}-x{job.replications}"
        if job.replications > 1 and _free_output(runs_dir, name, "replications.json"):
            replicated.write(runs_dir / name, report=write_replication_report)
            output = name
    else:
        swept = check_sweep_text(job.sweep or "", scenario, runs_dir, max_runs=sys.maxsize)
        if swept.spec is None or swept.problems:
            report(type="problems", problems=[str(p) for p in swept.problems])
            return EXIT_PROBLEMS
        sweep = Sweep(swept.spec, scenario)
        if swept.spec.design != "search":
            points = [sweep.point(index, values) for index, values in enumerate(design_points(swept.spec))]
            keys = [key for point in points for key in point.keys]
            seeds = {key: seed for point in points for key, seed in zip(point.keys, sweep.seeds, strict=False)}
            report(type="planned", keys=keys, seeds=seeds, total=len(keys))
        else:
            report(type="planned", keys=[], seeds={}, total=sweep.total_runs())
        result = sweep.run(runner, on_done)
        result.write(runs_dir / swept.spec.name, report=write_sweep_report)
        output = swept.spec.name
    report(type="finished", output=output)
    return 0


def main(argv: list[str] | None = None) -> int:
    journal, parent = (argv if argv is not None else sys.argv[1:])[:2]
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # whatever else prints goes to standard error, not into the protocol
    sys.stdout = sys.stderr
    signal.signal(signal.SIGTERM, _on_term)
    threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
    report = Reporter(protocol)
    try:
        job = Job.from_dict(json.loads(Path(journal).read_text()))
        return run_job(job, report)
    except Cancelled:
        report(type="cancelled")
        return EXIT_CANCELLED


if __name__ == "__main__":
    sys.exit(main())
