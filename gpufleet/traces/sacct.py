"""Slurm accounting dumps: `sacct --parsable2` (`-P`) output, one `|`-separated row per job or step.

The first line is the header (`sacct -P` prints one unless `--noheader`). A file without
one is read when its rows have the 26 fields of Open XDMoD's documented `--format` list
(the usual header-less dump). Fields, by their sacct names (any case):

    JobID          the job (array tasks `123_4` are jobs; steps `123.batch`, `123.0` are left out)
    Submit, Start, End   ISO 8601 times (UTC); `Unknown`/`None`: not yet
    AllocTRES, ReqTRES   `gres/gpu=8` or `gres/gpu:a100=8` (the type becomes the GPU type)
    NNodes / AllocNodes  nodes, to split a job's GPUs into per-node groups
    NodeList       where it ran (`None assigned`: it never started)
    Timelimit      `[D-]HH:MM:SS`, `MM:SS`, minutes, `UNLIMITED`, `Partition_Limit`
    State          `COMPLETED`, `FAILED`, `CANCELLED by 123`, `TIMEOUT`, `NODE_FAIL`, ...
    Partition, QOS, Account, User, JobName   text

A scenario's `columns` may name another field for any of submit, start, end, gpus, name,
team, queue, priority, status (e.g. `gpus: NCPUS` counts CPUs as the scheduled unit). A
row with the wrong number of fields (a `|` inside a job name), a time or number that
does not parse, or a start before its submit is a bad row, reported with its line.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from gpufleet.errors import InputError, Problem
from gpufleet.spec.workload import TraceColumns
from gpufleet.traces.csvread import open_binary
from gpufleet.traces.report import ReadReport
from gpufleet.traces.tables import JobTrace

XDMOD_FIELDS = ("JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "Group", "GID", "User", "UID",
                "Submit", "Eligible", "Start", "End", "Elapsed", "ExitCode", "State", "NNodes", "NCPUS",
                "ReqCPUS", "ReqMem", "ReqTRES", "AllocTRES", "Timelimit", "NodeList", "JobName")
"""Open XDMoD's `sacct --format` list (docs/resource-manager-slurm.md), for dumps written without a header."""

DEFAULTS = {"submit": "Submit", "start": "Start", "end": "End", "name": "JobID", "team": "Partition",
            "queue": "Partition", "priority": "QOS", "status": "State"}
NOT_YET = ("", "unknown", "none", "n/a")
JOB_STEP = "job step (its job's own row counts)"
ARRAY_RANGE = "pending job-array range (tasks not yet split into jobs)"
_EPOCH = datetime(1970, 1, 1)


def read_sacct(path: str | Path, columns: TraceColumns | None = None) -> JobTrace:
    """Read a `sacct -P` dump (see the module docstring)."""
    path = Path(path)
    report = ReadReport(str(path), "slurm-sacct")
    lines = _lines(path)
    header, first = _header(lines, path, report)
    index = {name.lower(): position for position, name in enumerate(header)}
    mapping = _mapping(columns, index, path)
    rows = _Rows()
    for number in range(first, len(lines)):
        text = lines[number]
        line = number + 1
        if not text.strip():
            report.rows += 1
            report.leave_out("blank line", 1)
            continue
        report.rows += 1
        cells = text.split("|")
        if len(cells) != len(header):
            report.add_bad(line, f"expected {len(header)} fields, found {len(cells)}")
            continue
        try:
            rows.add(cells, index, mapping, report, line)
        except ValueError as exc:
            report.add_bad(line, str(exc))
    if lines and not any(lines[first:]):
        report.notes.append("no job rows")
    return rows.trace(report)


def field_names(path: str | Path) -> list[str]:
    """The dump's field names: its header, or Open XDMoD's order for a header-less dump."""
    path = Path(path)
    return _header(_lines(path), path, ReadReport(str(path), "slurm-sacct"))[0]


def _lines(path: Path) -> list[str]:
    try:
        with open_binary(path) as stream:
            text = stream.read().decode("utf-8", errors="replace")
    except (OSError, EOFError) as exc:
        raise InputError([Problem(f"cannot read trace: {exc}", file=str(path))]) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def _header(lines: list[str], path: Path, report: ReadReport) -> tuple[list[str], int]:
    """The field names and the index of the first data line."""
    if not lines:
        raise InputError([Problem("empty file: expected sacct -P output", file=str(path))])
    first = lines[0].split("|")
    if any(cell.strip().lower() in ("jobid", "jobidraw") for cell in first):
        return [cell.strip() for cell in first], 1
    if len(first) == len(XDMOD_FIELDS):
        report.notes.append("no header line: read with Open XDMoD's sacct --format field order "
                            f"({', '.join(XDMOD_FIELDS)})")
        return list(XDMOD_FIELDS), 0
    raise InputError([Problem(f"no header line (the first line has no JobID field, and its {len(first)} fields "
                              f"are not Open XDMoD's {len(XDMOD_FIELDS)}): run sacct without --noheader, or add "
                              "the --format list as a first line, joined by |", file=str(path), line=1)])


def _mapping(columns: TraceColumns | None, index: dict[str, int], path: Path) -> dict[str, int | None]:
    """Field -> position in the row (None: absent)."""
    wanted = dict(DEFAULTS)
    if columns is not None:
        for name in columns.model_fields_set:
            if name == "duration":
                raise InputError([Problem("columns.duration: slurm-sacct run times come from Start and End",
                                          file=str(path))])
            wanted[name] = getattr(columns, name)
    found: dict[str, int | None] = {}
    for name, column in wanted.items():
        if column is None:
            found[name] = None
        elif column.lower() in index:
            found[name] = index[column.lower()]
        elif name in ("submit", "name") or (columns is not None and name in columns.model_fields_set):
            raise InputError([Problem(f"no field {column!r} for {name} (the fields are: "
                                      f"{', '.join(sorted(index))})", file=str(path), line=1)])
        else:
            found[name] = None
    gpus = columns.gpus if columns is not None and "gpus" in columns.model_fields_set else None
    found["gpus"] = index[gpus.lower()] if gpus else None
    found["gpus_tres"] = None if gpus else next((index[name] for name in ("alloctres", "reqtres") if name in index),
                                                None)
    found["req_tres"] = index.get("reqtres")
    found["jobid"] = index.get("jobid", index.get("jobidraw"))
    found["gres"] = next((index[name] for name in ("allocgres", "reqgres") if name in index), None)
    found["nodes"] = next((index[name] for name in ("nnodes", "allocnodes") if name in index), None)
    found["nodelist"] = index.get("nodelist")
    found["timelimit"] = index.get("timelimit")
    found["account"] = index.get("account")
    found["user"] = index.get("user")
    if found["gpus"] is None and found["gpus_tres"] is None and found["gres"] is None:
        raise InputError([Problem("no GPU count: the dump has no AllocTRES, ReqTRES or AllocGRES field "
                                  "(add one to sacct --format, or map columns.gpus to a field)",
                                  file=str(path), line=1)])
    return found


class _Rows:
    """Job rows as they are accepted, turned into arrays at the end."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in (
            "submit", "start", "end", "gpus", "group", "limit", "name", "team", "queue", "priority", "status",
            "flavor", "nodes", "account", "user", "withdrawn")}

    def add(self, cells: list[str], index: dict[str, int], at: dict[str, int | None], report: ReadReport,
            line: int) -> None:
        def cell(name: str) -> str:
            position = at.get(name)
            return cells[position].strip() if position is not None else ""

        job = cells[at["jobid"]].strip() if at["jobid"] is not None else cell("name")
        if "." in job:
            report.leave_out(JOB_STEP, 1)
            return
        if "_[" in job:
            report.leave_out(ARRAY_RANGE, 1)
            return
        submit = parse_time(cell("submit"), "submit")
        if math.isnan(submit):
            raise ValueError(f"submit: {cell('submit')!r} is not a time")
        nodelist = cell("nodelist")
        start = parse_time(cell("start"), "start")
        if nodelist.lower() == "none assigned":
            start = math.nan  # cancelled or pending: it never got nodes
        end = parse_time(cell("end"), "end")
        withdrawn = end if math.isnan(start) else math.nan
        if math.isnan(start):
            end = math.nan
        if not math.isnan(start) and start < submit:
            raise ValueError(f"start is before submit ({start - submit:g} s)")
        if not math.isnan(end) and end < start:
            raise ValueError(f"end is before start ({end - start:g} s)")
        if withdrawn < submit:
            raise ValueError(f"end is before submit ({withdrawn - submit:g} s)")
        if at["gpus"] is not None:
            gpus, flavor = _count(cells[at["gpus"]].strip(), "gpus"), None
        elif at["gpus_tres"] is not None:
            gpus, flavor = gpus_from_tres(cells[at["gpus_tres"]])
            if gpus == 0 and at["req_tres"] is not None and math.isnan(start):
                gpus, flavor = gpus_from_tres(cells[at["req_tres"]])  # pending: only the request is known
        else:
            gpus, flavor = gpus_from_gres(cells[at["gres"]])  # type: ignore[index]
        nodes = _count(cell("nodes"), "NNodes") if cell("nodes") else 0
        group = gpus // nodes if nodes and gpus % nodes == 0 and gpus else 0
        status = cell("status")
        limit = parse_timelimit(cell("timelimit")) if at["timelimit"] is not None else math.nan
        # Every value is parsed (and may raise) before the first append: a bad row adds nothing.
        self.columns["submit"].append(submit)
        self.columns["start"].append(start)
        self.columns["end"].append(end)
        self.columns["withdrawn"].append(withdrawn)
        self.columns["gpus"].append(gpus)
        self.columns["group"].append(group)
        self.columns["limit"].append(limit)
        self.columns["name"].append(cell("name") or job)
        for name in ("team", "queue", "priority", "account", "user"):
            self.columns[name].append(cell(name) or None)
        self.columns["status"].append(status.split(" ")[0] if status else None)
        self.columns["flavor"].append(flavor)
        self.columns["nodes"].append(nodelist or None)

    def trace(self, report: ReadReport) -> JobTrace:
        cols = self.columns
        submit = np.array(cols["submit"], dtype=np.float64)
        start = np.array(cols["start"], dtype=np.float64)
        end = np.array(cols["end"], dtype=np.float64)
        gpus = np.array(cols["gpus"], dtype=np.int64)

        def text(name: str) -> pa.ChunkedArray | None:
            values = cols[name]
            return pa.chunked_array([pa.array(values, type=pa.string())]) if any(values) else None

        flavors = cols["flavor"]
        extra = {name: column for name in ("account", "user") if (column := text(name)) is not None}
        return JobTrace(
            report=report, submit_s=submit, gpus=gpus, gpu_share=gpus.astype(np.float64), duration_s=end - start,
            wait_s=start - submit, calendar=True, names=text("name"), team=text("team"), queue=text("queue"),
            priority=text("priority"), status=text("status"),
            flavors=[(flavor,) if flavor else None for flavor in flavors] if any(flavors) else None,
            extra=extra, group=np.array(cols["group"], dtype=np.int64),
            time_limit_s=np.array(cols["limit"], dtype=np.float64), nodes=cols["nodes"],
            withdrawn_s=np.array(cols["withdrawn"], dtype=np.float64),
        )


def parse_time(text: str, field: str) -> float:
    """Seconds since 1970 (UTC) of an sacct time; NaN for `Unknown`, `None` and empty."""
    if text.strip().lower() in NOT_YET:
        return math.nan
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a time (sacct writes 2024-01-31T12:00:00)") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return (when - _EPOCH).total_seconds()


def parse_timelimit(text: str) -> float:
    """A Slurm time limit in seconds: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS;
    `UNLIMITED`/`INFINITE` -> inf; `Partition_Limit`, `INVALID` or empty -> NaN (unknown)."""
    value = text.strip()
    if value.upper() in ("UNLIMITED", "INFINITE"):
        return math.inf
    if value.lower() in ("", "partition_limit", "invalid", "none", "unknown"):
        return math.nan
    days = 0
    rest = value
    if "-" in value:
        head, _, rest = value.partition("-")
        days = _int(head, text)
        parts = [_int(part, text) for part in rest.split(":")] if rest else []
        if not 1 <= len(parts) <= 3:
            raise ValueError(f"Timelimit: {text!r} is not a Slurm time")
        hours, minutes, seconds = (parts + [0, 0])[:3]
    else:
        parts = [_int(part, text) for part in rest.split(":")]
        if len(parts) == 1:
            hours, minutes, seconds = 0, parts[0], 0
        elif len(parts) == 2:
            hours, minutes, seconds = 0, parts[0], parts[1]
        elif len(parts) == 3:
            hours, minutes, seconds = parts
        else:
            raise ValueError(f"Timelimit: {text!r} is not a Slurm time")
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def _int(text: str, whole: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"Timelimit: {whole!r} is not a Slurm time")
    return int(text)


def _count(text: str, field: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{field}: {text!r} is not a whole number")
    return int(text)


def gpus_from_tres(text: str) -> tuple[int, str | None]:
    """(GPUs, GPU type or None) from a TRES list: `gres/gpu=8` and/or `gres/gpu:a100=8`."""
    total: int | None = None
    typed: dict[str, int] = {}
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not name.startswith("gres/gpu"):
            continue
        if not value.isdigit():
            raise ValueError(f"TRES {item.strip()!r}: the GPU count is not a whole number")
        if name == "gres/gpu":
            total = int(value)
        elif name.startswith("gres/gpu:"):
            typed[name.split(":", 1)[1]] = int(value)
    if total is None:
        total = sum(typed.values())
    kind = next(iter(typed)) if len(typed) == 1 else None
    return total, kind


def gpus_from_gres(text: str) -> tuple[int, str | None]:
    """(GPUs, type) from an older GRES field: `gpu:2`, `gpu:k80:2`, `gpu:2(IDX:0-1)`."""
    total, kind = 0, None
    for item in text.split(","):
        item = item.strip().split("(")[0]
        parts = item.split(":")
        if not parts or parts[0] != "gpu":
            continue
        count = parts[-1]
        if not count.isdigit():
            raise ValueError(f"GRES {item!r}: the GPU count is not a whole number")
        total += int(count)
        if len(parts) == 3:
            kind = parts[1]
    return total, kind
