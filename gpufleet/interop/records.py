"""Job records: what an importer learned about each job, written as a gpufleet-jobs CSV.

Times are seconds since 1970 (UTC), None when unknown: no start means the job never
started (it was still queued, or was cancelled first), a start without an end means it
was still running when the record was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gpufleet.traces.jobfile import job_file_text


@dataclass
class JobRecord:
    """One job of a cluster's record (a Kueue workload or a Slurm job)."""

    name: str
    team: str
    gpus: int
    submit: float
    start: float | None = None
    end: float | None = None
    gpus_per_group: int | None = None
    within_block: bool = False
    time_limit_s: float | None = None
    gpu_types: tuple[str, ...] | None = None
    queue: str | None = None
    priority: str | None = None
    status: str | None = None

    def row(self) -> dict[str, object]:
        return {"submit": iso(self.submit), "start": iso(self.start), "end": iso(self.end), "gpus": self.gpus,
                "gpus_per_group": self.gpus_per_group, "within_block": self.within_block,
                "time_limit_s": self.time_limit_s, "gpu_types": "|".join(self.gpu_types) if self.gpu_types else None,
                "name": self.name, "team": self.team, "queue": self.queue, "priority": self.priority,
                "status": self.status}


def iso(seconds: float | None) -> str | None:
    """`2024-05-01T12:00:00` (UTC, whole seconds kept exact; fractions to the microsecond)."""
    if seconds is None:
        return None
    when = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    return when.isoformat(timespec="microseconds" if when.microsecond else "seconds")


def epoch(when: datetime) -> float:
    """Seconds since 1970 of a naive-UTC or aware datetime."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return (when - datetime(1970, 1, 1)).total_seconds()


def records_text(records: list[JobRecord]) -> str:
    """The records as a gpufleet-jobs CSV, in submit order (then name)."""
    ordered = sorted(records, key=lambda record: (record.submit, record.name))
    return job_file_text([record.row() for record in ordered])


def write_records(path: str | Path, records: list[JobRecord]) -> None:
    """The records as a gpufleet-jobs CSV file (for scratch runs; outputs go through gpufleet.staging)."""
    Path(path).write_text(records_text(records), encoding="utf-8")
