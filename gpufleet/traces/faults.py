"""The StepFun InfiniteHBD GPU-server fault trace: fault_start / fault_end events per server.

`fault_trace.json` is a JSON array of events {node_id, event_time (days), event_type,
fault_type {Level, Class, Desc}}. A repair time pairs each fault_start with the next
fault_end of the same server, first in first out. Servers that never failed are not in
the trace, so the fault rate per server-day needs the fleet size from its README
(`servers`; 400 for this trace). The observed period defaults to the time of the last
event (event times count days from the start of the observation).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.traces.report import ReadReport

EVENTS = ("fault_start", "fault_end")


@dataclass
class FaultTrace:
    """Faults (one per fault_start), with their repair time in days (NaN if never repaired)."""

    report: ReadReport
    server: list[str]
    start_days: np.ndarray
    repair_days: np.ndarray
    level: list[str]
    fault_class: list[str]
    servers: int | None = None
    observed_days: float | None = None
    last_event_days: float = 0.0

    def __len__(self) -> int:
        return len(self.server)


def _records(text: str, path: Path) -> list[tuple[int, Any]]:
    """(line, value) of each element of a top-level JSON array."""
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    if position >= len(text) or text[position] != "[":
        raise InputError([Problem("expected a JSON array of events", file=str(path), line=1)])
    position = _skip(text, position + 1)
    out = []
    while position < len(text) and text[position] != "]":
        line = text.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise InputError([Problem(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno)]) from None
        out.append((line, value))
        position = _skip(text, position)
        if position < len(text) and text[position] == ",":
            position = _skip(text, position + 1)
    if position >= len(text):
        raise InputError([Problem("not valid JSON: the array of events is not closed (a truncated file?)",
                                  file=str(path), line=text.count("\n") + 1)])
    return out


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def read_faults(path: str | Path, servers: int | None = None, observed_days: float | None = None) -> FaultTrace:
    """Read the fault trace and pair starts with ends per server."""
    path = Path(path)
    report = ReadReport(str(path), "stepfun-faults")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem("trace file not found", file=str(path))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(f"cannot read trace: {exc}", file=str(path))]) from None
    events = []
    for line, record in _records(text, path):
        report.rows += 1
        problem = _check(record)
        if problem:
            report.add_bad(line, problem)
            continue
        events.append((float(record["event_time"]), line, record))
    events.sort(key=lambda item: (item[0], item[1]))
    open_faults: dict[str, list[int]] = {}
    server, start, repair, level, klass = [], [], [], [], []
    for time, line, record in events:
        node = record["node_id"]
        if record["event_type"] == "fault_start":
            open_faults.setdefault(node, []).append(len(server))
            server.append(node)
            start.append(time)
            repair.append(np.nan)
            level.append(str(record["fault_type"].get("Level", "")))
            klass.append(str(record["fault_type"].get("Class", "")))
        elif open_faults.get(node):
            fault = open_faults[node].pop(0)
            repair[fault] = time - start[fault]
        else:
            report.add_bad(line, f"fault_end of server {node} with no open fault_start")
    unrepaired = sum(len(pending) for pending in open_faults.values())
    if unrepaired:
        report.notes.append(f"{unrepaired} faults have no fault_end (not repaired within the trace)")
    last = events[-1][0] if events else 0.0
    return FaultTrace(report, server, np.array(start), np.array(repair), level, klass, servers, observed_days, last)


def _check(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"expected a JSON object, found {type(record).__name__}"
    for key in ("node_id", "event_time", "event_type"):
        if record.get(key) in (None, ""):
            return f"{key}: missing value"
    if record["event_type"] not in EVENTS:
        return f"event_type: {record['event_type']!r} is not one of {', '.join(EVENTS)}"
    if not isinstance(record["node_id"], str | int) or isinstance(record["node_id"], bool):
        return f"node_id: {record['node_id']!r} is not a server name"
    time = record["event_time"]
    if isinstance(time, bool) or not isinstance(time, int | float) or not _finite(time) or time < 0:
        return f"event_time: {time!r} is not a time in days (0 or more)"
    if record["event_type"] == "fault_start" and not isinstance(record.get("fault_type"), dict):
        return "fault_type: missing for a fault_start"
    return None


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False


def fault_stats(trace: FaultTrace) -> dict[str, Any]:
    """Faults, servers hit, repair-time quantiles (days), fault rate per server-day, mix by level and class."""
    from gpufleet.traces.stats import quantiles

    days = trace.observed_days if trace.observed_days is not None else trace.last_event_days
    out: dict[str, Any] = {"kind": "faults", "read": trace.report.to_dict(), "faults": len(trace),
                           "servers_hit": len(set(trace.server)), "observed_days": days,
                           "repair_days": quantiles(trace.repair_days)}
    by_level: dict[str, int] = {}
    by_class: dict[str, int] = {}
    for level, klass in zip(trace.level, trace.fault_class, strict=True):
        by_level[level] = by_level.get(level, 0) + 1
        by_class[klass] = by_class.get(klass, 0) + 1
    out["by_level"] = dict(sorted(by_level.items(), key=lambda item: -item[1]))
    out["by_class"] = dict(sorted(by_class.items(), key=lambda item: -item[1]))
    if trace.servers:
        server_days = trace.servers * days
        out["servers"] = trace.servers
        out["faults_per_server_day"] = len(trace) / server_days if server_days else None
        out["faults_per_server_day_by_class"] = {klass: count / server_days for klass, count in out["by_class"].items()
                                                 } if server_days else {}
    return out
