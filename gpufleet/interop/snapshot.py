"""The cluster at one instant, for `gpufleet admit`: what runs, what waits, and a job to ask about.

At time T (default: the last event the records hold) a record is
- running: started by T, not ended by T (its elapsed time is T - start);
- queued: submitted by T, not started by T, not withdrawn by T (in creation order);
- gone: ended (or withdrawn) by T; records submitted after T are unknown at T.

Each replication plays the snapshot forward: the running jobs are submitted one second
before T (so they hold their GPUs from T, ahead of everyone), the queued jobs and then
the asked-about job at T, microseconds apart in their order. Run times are drawn from
the run times of the jobs that finished by T (the same team's when it has at least
`MIN_HISTORY`, else all), a running job's conditioned on exceeding its elapsed time,
each capped by its time limit; replications differ in these draws only. `recorded=True`
uses the recorded ends instead (what did happen), one replication.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.interop.kueue_config import GPU_RESOURCES, Flavor, KueueConfig
from gpufleet.interop.kueue_workloads import WORKLOAD_KINDS, read_workloads
from gpufleet.interop.records import JobRecord, epoch, write_records
from gpufleet.spec.scenario import Scenario
from gpufleet.traces.k8s import load_documents
from gpufleet.traces.tables import JobTrace
from gpufleet.workload.trace import read

MIN_HISTORY = 20
"""Finished jobs a team needs before its own run times are drawn from (else everyone's)."""
CANDIDATE = "admit"
"""Workload name of the asked-about job in a snapshot run."""


@dataclass
class Candidate:
    """The job asked about."""

    name: str
    team: str
    gpus: int
    group: int | None = None
    within_block: bool = False
    time_limit_s: float | None = None
    duration_s: float | None = None
    gpu_types: tuple[str, ...] | None = None


@dataclass
class Snapshot:
    """The running and queued jobs at `at`, the run-time history, and the job asked about."""

    scenario: Scenario
    at: datetime
    running: list[JobRecord]
    queued: list[JobRecord]
    history: dict[str, np.ndarray]
    candidate: Candidate
    notes: list[str] = field(default_factory=list)
    runtime_s: float | None = None

    @property
    def start(self) -> datetime:
        """The snapshot runs' start: one second before `at`."""
        return self.at - timedelta(seconds=1)


def job_records(scenario: Scenario) -> list[JobRecord]:
    """The records of every trace workload of the scenario, as recorded (no window or scaling)."""
    records: list[JobRecord] = []
    for entry in scenario.workloads:
        spec = entry.trace
        if spec is None:
            raise InputError([Problem(f"workload {entry.spec.name}: admit reads job records (trace workloads); "
                                      "generated workloads have no state at an instant")])
        if spec.window is not None or spec.time_scale != 1 or spec.repeat != 1 or spec.size_scale != 1 \
                or spec.duration_scale != 1:
            raise InputError([Problem(f"trace workload {spec.name}: admit needs the records as recorded (no "
                                      "window, scaling or repetition)")])
        records += _records(read(spec), spec.name, spec.team)
    return records


def _records(trace: JobTrace, workload: str, fallback_team: str | None) -> list[JobRecord]:
    if not trace.calendar:
        raise InputError([Problem("admit needs calendar times (the trace counts from its own start)",
                                  file=trace.report.path)])
    names = trace.names.to_pylist() if trace.names is not None else [f"{workload}-{k}" for k in range(len(trace))]
    column = trace.team if trace.team is not None else trace.queue
    teams = column.to_pylist() if column is not None else [None] * len(trace)
    out = []
    for k in range(len(trace)):
        start = float(trace.submit_s[k] + trace.wait_s[k]) if math.isfinite(trace.wait_s[k]) else None
        end = start + float(trace.duration_s[k]) if start is not None and math.isfinite(trace.duration_s[k]) \
            else None
        if start is None and trace.withdrawn_s is not None and math.isfinite(trace.withdrawn_s[k]):
            end = float(trace.withdrawn_s[k])
        limit = float(trace.time_limit_s[k]) if trace.time_limit_s is not None else math.inf
        out.append(JobRecord(
            name=str(names[k]), team=teams[k] or fallback_team or workload, gpus=int(trace.gpus[k]),
            submit=float(trace.submit_s[k]), start=start, end=end,
            gpus_per_group=int(trace.group[k]) or None if trace.group is not None else None,
            within_block=bool(trace.within_block[k]) if trace.within_block is not None else False,
            time_limit_s=limit if math.isfinite(limit) else None,
            gpu_types=trace.flavors[k] if trace.flavors is not None else None))
    return out


def last_event(records: list[JobRecord]) -> float:
    times = [t for record in records for t in (record.submit, record.start, record.end) if t is not None]
    if not times:
        raise InputError([Problem("the scenario's records hold no times: give --at")])
    return max(times)


def take(scenario: Scenario, records: list[JobRecord], candidate: Candidate, at: datetime | None) -> Snapshot:
    """The snapshot of `records` at `at` (default: the last recorded event)."""
    moment = epoch(at) if at is not None else last_event(records)
    when = datetime(1970, 1, 1) + timedelta(seconds=moment)
    running, queued = [], []
    finished: dict[str, list[float]] = {}
    for record in records:
        if record.gpus <= 0 or record.submit > moment:
            continue
        if record.start is not None and record.start <= moment:
            if record.end is not None and record.end <= moment:
                finished.setdefault(record.team, []).append(record.end - record.start)
            else:
                running.append(record)
        elif record.end is None or record.end > moment:
            queued.append(record)
    queued.sort(key=lambda record: (record.submit, record.name))
    history = {team: np.sort(np.array(values)) for team, values in finished.items()}
    if finished:
        history[""] = np.sort(np.concatenate([np.array(values) for values in finished.values()]))
    notes = [f"at {when.isoformat(sep=' ')}: {len(running)} jobs running, {len(queued)} queued, "
             f"{sum(len(values) for values in finished.values())} finished earlier (their run times are drawn from)"]
    return Snapshot(scenario, when, running, queued, history, candidate, notes)


def replication(snapshot: Snapshot, index: int, seed: int, recorded: bool = False) -> list[JobRecord]:
    """The snapshot's jobs as they play out in replication `index`: submit, start and end times
    relative to the snapshot (start = submit, so the scheduler decides when they really start)."""
    rng = np.random.default_rng([seed, index])
    at = epoch(snapshot.at)
    out = []
    for record in snapshot.running:
        elapsed = at - record.start  # type: ignore[operator]
        left = _remaining(snapshot, record, elapsed, rng, recorded)
        out.append(_played(record, at - 1.0, left + 1.0, None if record.time_limit_s is None else
                           max(record.time_limit_s - elapsed, 0.0) + 1.0))
    for rank, record in enumerate(snapshot.queued):
        run = record.end - record.start if recorded and record.start is not None and record.end is not None \
            else _draw(snapshot, record.team, 0.0, record.time_limit_s, rng)
        out.append(_played(record, at + (rank + 1) * 1e-6, run, record.time_limit_s))
    candidate = snapshot.candidate
    run = candidate.duration_s if candidate.duration_s is not None else \
        _draw(snapshot, candidate.team, 0.0, candidate.time_limit_s, rng)
    out.append(JobRecord(name=f"{CANDIDATE}:{candidate.name}", team=candidate.team, gpus=candidate.gpus,
                         submit=at + (len(snapshot.queued) + 1) * 1e-6,
                         start=at + (len(snapshot.queued) + 1) * 1e-6,
                         end=at + (len(snapshot.queued) + 1) * 1e-6 + run, gpus_per_group=candidate.group,
                         within_block=candidate.within_block, time_limit_s=candidate.time_limit_s,
                         gpu_types=candidate.gpu_types))
    return out


def _played(record: JobRecord, submit: float, run: float, limit: float | None) -> JobRecord:
    return JobRecord(name=record.name, team=record.team, gpus=record.gpus, submit=submit, start=submit,
                     end=submit + max(run, 1e-3), gpus_per_group=record.gpus_per_group,
                     within_block=record.within_block, time_limit_s=limit, gpu_types=record.gpu_types,
                     queue=record.queue, priority=record.priority, status=record.status)


def _remaining(snapshot: Snapshot, record: JobRecord, elapsed: float, rng: np.random.Generator,
               recorded: bool) -> float:
    if recorded and record.end is not None:
        return record.end - epoch(snapshot.at)
    return _draw(snapshot, record.team, elapsed, record.time_limit_s, rng)


def _draw(snapshot: Snapshot, team: str, elapsed: float, limit: float | None, rng: np.random.Generator) -> float:
    """Remaining run time of a job that has run `elapsed` seconds: a finished job's run time above
    `elapsed` (its team's history when long enough), minus `elapsed`, capped at the limit."""
    if snapshot.runtime_s is not None:
        values = np.array([snapshot.runtime_s])
    else:
        own = snapshot.history.get(team)
        values = own if own is not None and len(own) >= MIN_HISTORY else snapshot.history.get("", np.zeros(0))
    longer = values[values > elapsed]
    cap = math.inf if limit is None else max(limit - elapsed, 0.0)
    if len(longer):
        left = float(longer[int(rng.integers(len(longer)))]) - elapsed
    elif math.isfinite(cap):
        left = cap
    elif elapsed > 0:
        left = elapsed  # no finished job ran this long: assume it runs as long again
    else:
        raise InputError([Problem("no job finished before --at and the job has no time limit: there is nothing to "
                                  "draw run times from (give --runtime-hours)")])
    return min(left, cap)


def snapshot_scenario(snapshot: Snapshot, records: list[JobRecord], folder: Path, horizon_days: float) -> Scenario:
    """The scenario of one replication: the imported one, from one second before the snapshot, with
    `records` (written to `folder`) as its only workload (not yet checked: the caller runs the
    scenario checks)."""
    path = folder / "snapshot.jobs.csv"
    write_records(path, records)
    base = snapshot.scenario
    trace = {"name": CANDIDATE, "format": "gpufleet-jobs", "path": str(path), "estimate": "time_limit"}
    data = base.model_dump(mode="json", exclude={"workloads"})
    data.update(start=snapshot.start.isoformat(), end=(snapshot.at + timedelta(days=horizon_days)).isoformat(),
                workloads=[{"trace": trace}], scheduler=_serving(base, snapshot.candidate.team))
    if base.contract is not None and base.contract.start > snapshot.start:
        data["contract"] = None
    data["fleet"]["pools"] = [_present(pool, snapshot.start) for pool in data["fleet"]["pools"]]
    return Scenario.model_validate(data)


def _present(pool: dict[str, Any], start: datetime) -> dict[str, Any]:
    """The pool with every delivery up to the snapshot moved to its start (later ones kept)."""
    changes = []
    for change in pool["deliveries"]:
        date = datetime.fromisoformat(change["date"])
        changes.append({**change, "date": max(date, start).isoformat()})
    return {**pool, "deliveries": changes, "retirements": [
        {**change, "date": max(datetime.fromisoformat(change["date"]), start).isoformat()}
        for change in pool.get("retirements") or []]}


def _serving(scenario: Scenario, team: str) -> dict[str, Any]:
    """The scheduler with the asked-about job's team served (by its LocalQueue's queue) and classed."""
    data = scenario.scheduler.model_dump(mode="json")
    queues = data.get("queues") or []
    if queues and not any(team in queue["tenants"] or "*" in queue["tenants"] for queue in queues):
        local = team.split(":", 1)[0]
        home = next((queue for queue in queues if any(tenant.split(":", 1)[0] == local for tenant in
                                                      queue["tenants"])), None)
        if home is None:
            raise InputError([Problem(f"no queue serves the job's team {team!r} (its LocalQueue or partition is "
                                      "not in the scenario)")])
        home["tenants"].append(team)
    _, _, cls = team.partition(":")
    for entry in data.get("priority_classes") or []:
        if entry["name"] == cls and team not in entry["teams"]:
            entry["teams"].append(team)
    return data


def read_candidate(path: str | Path, levels: dict[str, list[str]] | None = None,
                   gpu_resources: tuple[str, ...] = GPU_RESOURCES) -> Candidate:
    """The job asked about: a Kueue workload object (Job, JobSet, Workload, LeaderWorkerSet, Pod) or a
    gpufleet job mapping {name, gpus, team, gpus_per_group, within_block, duration_hours,
    time_limit_hours, gpu_types}. `levels`: the Topology levels of each flavor (from the import
    report), to read a workload's topology requests."""
    documents = load_documents(path)
    if len(documents) != 1:
        raise InputError([Problem(f"expected one job, found {len(documents)} objects", file=str(path))])
    document = documents[0]
    if document.kind in WORKLOAD_KINDS:
        read = read_workloads(documents, _config(levels or {}), gpu_resources, str(path), submitted=0.0)
        record = next(iter(read.records), None)
        if record is None:
            raise InputError([Problem(f"cannot ask about it: {', '.join(read.report.left_out) or 'not a job'}",
                                      file=str(path))])
        if record.gpus <= 0:
            raise InputError([Problem("the job asks for no GPUs: nothing to admit", file=str(path))])
        return Candidate(record.name, record.team, record.gpus, record.gpus_per_group, record.within_block,
                         record.time_limit_s, None, record.gpu_types)
    return _plain_job(document.data, str(path))


def _config(levels: dict[str, list[str]]) -> KueueConfig:
    """Just enough configuration to read topology requests: each flavor with its Topology's levels."""
    config = KueueConfig()
    for flavor, labels in levels.items():
        config.flavors[flavor] = Flavor(flavor, None, {}, flavor)  # type: ignore[arg-type]
        config.topologies[flavor] = labels
    return config


_PLAIN = {"name", "gpus", "team", "gpus_per_group", "within_block", "duration_hours", "time_limit_hours", "gpu_types"}


def _plain_job(data: dict[str, Any], source: str) -> Candidate:
    unknown = sorted(set(data) - _PLAIN)
    if unknown or "gpus" not in data or "team" not in data:
        raise InputError([Problem(f"not a Kueue workload (kind {data.get('kind')!r}) nor a gpufleet job: a job "
                                  f"mapping takes {', '.join(sorted(_PLAIN))}; gpus and team are required"
                                  + (f" (unknown: {', '.join(unknown)})" if unknown else ""), file=source)])
    gpus = data["gpus"]
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
        raise InputError([Problem(f"gpus: {gpus!r} is not a positive whole number", path=("gpus",), file=source)])

    def hours(key: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise InputError([Problem(f"{key}: {value!r} is not a positive number", path=(key,), file=source)])
        return float(value) * 3600.0

    group = data.get("gpus_per_group")
    if group is not None and (isinstance(group, bool) or not isinstance(group, int) or group < 1 or gpus % group):
        raise InputError([Problem(f"gpus_per_group: {group!r} does not divide gpus {gpus}", path=("gpus_per_group",),
                                  file=source)])
    types = data.get("gpu_types")
    return Candidate(str(data.get("name") or "job"), str(data["team"]), gpus, group, bool(data.get("within_block")),
                     hours("time_limit_hours"), hours("duration_hours"),
                     tuple(str(kind) for kind in types) if types else None)
