"""Background jobs: the runs and sweeps the dashboard starts, each in its own worker process
(`gpufleet.ui.worker`), a bounded number at once.

Each job has a journal file in the runs folder (`.gpufleet-ui/jobs/<id>.json`, rewritten
whole at every change of state and at every finished run). The worker reports on a pipe,
one JSON line per event; the manager applies the events and wakes whoever follows the job
(server-sent events). Cancel sends SIGTERM (the worker stops between two Python steps and
its half-written run folder is removed by `staged_directory`), then SIGKILL after a grace.

Faults: a worker dies with the dashboard (it watches its parent). A dashboard that starts
and finds a job its journal says was running marks it interrupted: the runs it finished
are whole in the store (each written into a hidden folder and renamed into place), what
the killed worker left half-written is hidden and removed, and `resume` runs the job again,
which skips every run already stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpufleet import __version__
from gpufleet.staging import clean_abandoned, write_whole
from gpufleet.store.keys import ENGINE
from gpufleet.store.store import RunStore
from gpufleet.ui.settings import UiSettings

WORKER_MODULE = "gpufleet.ui.worker"
ACTIVE = frozenset({"queued", "running", "cancelling"})
CANCEL_GRACE_S = 10.0
EXIT_PROBLEMS = 2
EXIT_CANCELLED = 3
JOB_ID_CHARS = 12


class BusyError(RuntimeError):
    """As many background jobs run as the dashboard allows."""


class JobNotFoundError(LookupError):
    pass


class WrongStateError(RuntimeError):
    """The job cannot do that now (cancel a finished job, resume a running one)."""


def now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


@dataclass
class Job:
    """A run (replications of the editor's scenario) or a sweep of it, and how it stands."""

    id: str
    kind: str  # "run" or "sweep"
    name: str  # the scenario's name, or the sweep's
    scenario_name: str
    scenario: str  # the scenario YAML as typed
    store: str
    runs_dir: str
    allowed: list[str]
    sweep: str | None = None
    seed: int | None = None
    until: str | None = None
    replications: int = 1
    status: str = "queued"
    created: str = field(default_factory=now)
    started: str | None = None
    finished: str | None = None
    keys: list[str] = field(default_factory=list)  # the runs it makes, when known ahead
    seeds: dict[str, int] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)  # key -> ok / failed, as they finish
    skipped: int = 0
    total: int = 0
    current_seed: int | None = None
    fraction: float = 0.0
    output: str | None = None
    error: str | None = None
    attempts: int = 0
    pid: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def progress(self) -> float:
        """Share of the job done: finished runs, and the running one's simulated time."""
        if not self.total:
            return 1.0 if self.status == "done" else 0.0
        running = self.fraction if self.status == "running" else 0.0
        return min(1.0, (len(self.runs) + running) / self.total)

    def public(self, full: bool = True) -> dict[str, Any]:
        """What the pages and the API show (the worker's pid stays inside; without `full`, the
        scenario and sweep texts too: progress events go out many times a second)."""
        data = self.as_dict()
        data.pop("pid")
        if not full:
            data.pop("scenario")
            data.pop("sweep")
        data.update(progress=self.progress, done=sum(1 for s in self.runs.values() if s == "ok"),
                    failed=sum(1 for s in self.runs.values() if s != "ok"), active=self.status in ACTIVE)
        return data


class JobManager:
    """The dashboard's background jobs: start, follow, cancel, resume; recover after a crash."""

    def __init__(self, settings: UiSettings) -> None:
        self.settings = settings
        self.folder = settings.state_dir / "jobs"
        self.store = RunStore(settings.store_dir)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._events: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.on_run_stored: list[Callable[[], None]] = []

    # --- state

    def _save(self, job: Job) -> None:
        write_whole(self.folder / f"{job.id}.json", json.dumps(job.as_dict(), indent=1) + "\n")

    def _changed(self, job_id: str) -> None:
        event = self._events.pop(job_id, None)
        if event is not None:
            event.set()

    def snapshot(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise JobNotFoundError(job_id)
            return Job.from_dict(json.loads(json.dumps(job.as_dict())))

    def listing(self) -> list[Job]:
        with self._lock:
            jobs = [Job.from_dict(json.loads(json.dumps(job.as_dict()))) for job in self._jobs.values()]
        return sorted(jobs, key=lambda job: job.created, reverse=True)

    async def wait_change(self, job_id: str, timeout_s: float) -> None:
        """Until the job changes, or `timeout_s` passes."""
        event = self._events.setdefault(job_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)

    def pending_rows(self) -> list[dict[str, Any]]:
        """The runs of unfinished, interrupted or cancelled jobs that are not stored, for the runs list."""
        rows = []
        for job in self.listing():
            if job.status == "done":
                continue
            for key in job.keys:
                if key in job.runs:
                    continue
                seed = job.seeds.get(key)
                status = {"running": "running" if seed == job.current_seed else "waiting",
                          "queued": "waiting", "failed": "not run"}.get(job.status, job.status)
                rows.append({"key": key, "scenario": job.scenario_name,
                             "seed": seed, "until": job.until, "version": __version__, "engine": ENGINE,
                             "status": status, "error": job.error, "started": job.started or job.created,
                             "wall_s": None, "events": None, "job": job.id})
        return rows

    # --- life cycle

    async def start(self) -> None:
        """Read the journal; jobs that were running when the dashboard stopped are interrupted."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.folder.glob("*.json")):
            try:
                job = Job.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                continue
            if job.status in ACTIVE:
                _kill_stray(job)
                job.status = "interrupted"
                finished = len(job.runs)
                job.error = (f"the dashboard stopped while this {job.kind} ran: {finished} of {job.total or '?'} "
                             "runs had finished and are whole in the store; resume runs the rest")
                job.finished, job.pid, job.fraction, job.current_seed = now(), None, 0.0, None
                self._save(job)
                self._clean(job)
            self._jobs[job.id] = job

    async def stop(self) -> None:
        """Stop the workers (the dashboard is shutting down): their jobs are interrupted."""
        self._stopping = True
        for process in list(self._processes.values()):
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for job_id, process in list(self._processes.items()):
            try:
                await asyncio.wait_for(process.wait(), 5.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            del job_id
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5.0)

    def active(self) -> int:
        with self._lock:
            return sum(1 for job in self._jobs.values() if job.status in ACTIVE)

    async def submit(self, job: Job) -> Job:
        if self.active() >= self.settings.max_jobs:
            raise BusyError(f"{self.settings.max_jobs} background jobs are running: wait for one, or cancel one")
        while True:
            job.id = secrets.token_hex(JOB_ID_CHARS // 2)
            if job.id not in self._jobs:
                break
        with self._lock:
            self._jobs[job.id] = job
        self._save(job)
        await self._launch(job)
        return self.snapshot(job.id)

    async def resume(self, job_id: str) -> Job:
        job = self._get(job_id)
        if job.status in ACTIVE or job.status == "done":
            raise WrongStateError(f"job {job_id} is {job.status}: only an interrupted, failed or cancelled job resumes")
        if self.active() >= self.settings.max_jobs:
            raise BusyError(f"{self.settings.max_jobs} background jobs are running: wait for one, or cancel one")
        with self._lock:
            job.status, job.error, job.finished = "queued", None, None
            job.runs = {}
            job.skipped = 0
        await self._launch(job)
        return self.snapshot(job_id)

    async def cancel(self, job_id: str) -> Job:
        job = self._get(job_id)
        process = self._processes.get(job_id)
        if job.status not in ACTIVE or process is None:
            raise WrongStateError(f"job {job_id} is {job.status}: nothing to cancel")
        with self._lock:
            job.status = "cancelling"
        self._save(job)
        self._changed(job_id)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        self._keep(asyncio.create_task(self._kill_after(process, CANCEL_GRACE_S)))
        return self.snapshot(job_id)

    def _get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        return job

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _kill_after(self, process: asyncio.subprocess.Process, seconds: float) -> None:
        try:
            await asyncio.wait_for(process.wait(), seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    async def _launch(self, job: Job) -> None:
        with self._lock:
            job.status, job.started, job.attempts = "running", now(), job.attempts + 1
            job.fraction, job.current_seed, job.finished = 0.0, None, None
        journal = self.folder / f"{job.id}.json"
        self._save(job)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", WORKER_MODULE, str(journal), str(os.getpid()),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True)
        self._processes[job.id] = process
        with self._lock:
            job.pid = process.pid
        self._save(job)
        self._changed(job.id)
        self._keep(asyncio.create_task(self._follow(job.id, process)))

    async def _follow(self, job_id: str, process: asyncio.subprocess.Process) -> None:
        errors: deque[str] = deque(maxlen=30)

        async def drain_errors() -> None:
            assert process.stderr is not None
            async for line in process.stderr:
                errors.append(line.decode("utf-8", "replace"))

        drained = asyncio.create_task(drain_errors())
        assert process.stdout is not None
        async for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self._apply(job_id, event)
        code = await process.wait()
        await drained
        self._finish(job_id, code, "".join(errors))

    def _apply(self, job_id: str, event: dict[str, Any]) -> None:
        job = self._jobs[job_id]
        kind = event.get("type")
        stored = False
        with self._lock:
            if kind == "planned":
                job.keys = [str(k) for k in event.get("keys", [])]
                job.seeds = {str(k): int(v) for k, v in event.get("seeds", {}).items()}
                job.total = int(event.get("total", len(job.keys)))
            elif kind == "run_started":
                job.current_seed, job.fraction = event.get("seed"), 0.0
            elif kind == "progress":
                job.fraction = float(event.get("fraction", 0.0))
            elif kind == "run_done":
                key = str(event["key"])
                job.runs[key] = str(event.get("status", "ok"))
                job.skipped += 1 if event.get("skipped") else 0
                if key not in job.keys:
                    job.keys.append(key)
                if event.get("seed") is not None:
                    job.seeds[key] = int(event["seed"])
                job.fraction = 0.0
                stored = True
            elif kind == "finished":
                job.output = event.get("output")
            elif kind == "problems":
                job.error = "\n".join(str(p) for p in event.get("problems", []))
        if kind in ("planned", "run_done", "finished", "problems"):
            self._save(job)
        if stored:
            for callback in self.on_run_stored:
                callback()
        self._changed(job_id)

    def _finish(self, job_id: str, code: int, errors: str) -> None:
        job = self._jobs[job_id]
        self._processes.pop(job_id, None)
        with self._lock:
            if self._stopping:
                job.status = "interrupted"
                job.error = "the dashboard was stopped while this ran; resume runs what is left"
            elif job.status == "cancelling" or code == EXIT_CANCELLED:
                job.status = "cancelled"
            elif code == 0:
                job.status = "done"
            else:
                job.status = "failed"
                if code != EXIT_PROBLEMS or not job.error:
                    tail = errors.strip().splitlines()[-6:]
                    job.error = f"the worker stopped with exit code {code}" + (":\n" + "\n".join(tail) if tail
                                                                               else "")
            job.finished, job.pid, job.fraction, job.current_seed = now(), None, 0.0, None
        self._save(job)
        self._clean(job)
        for callback in self.on_run_stored:
            callback()
        self._changed(job_id)

    def _clean(self, job: Job) -> None:
        """Remove what a stopped worker left half-written (only folders no live writer holds)."""
        for key in job.keys:
            clean_abandoned(self.store.path(key))
        if job.output:
            clean_abandoned(Path(job.runs_dir) / job.output)


def _kill_stray(job: Job) -> None:
    """A worker of this job still alive (it outlived a dashboard killed a moment ago): stop it."""
    if job.pid is None:
        return
    try:
        command = Path(f"/proc/{job.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if WORKER_MODULE.encode() in command and any(job.id.encode() in part for part in command):
        with contextlib.suppress(ProcessLookupError):
            os.kill(job.pid, signal.SIGKILL)
