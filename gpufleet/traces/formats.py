"""The trace formats by name, and one entry point to read any of them and characterise it.

| format | what | result |
|---|---|---|
| alibaba-openb | openb pod list (`openb_pod_list_*.csv`) | JobTrace |
| generic-jobs | any job CSV, with a column mapping and time units | JobTrace |
| azure-llm | Azure LLM inference trace 2023 CSV | RequestTrace |
| generic-requests | any request CSV or JSON Lines, with a column mapping and time unit | RequestTrace |
| cluster-summary | published summaries (AcmeTrace, Helios) | ClusterSummary |
| alibaba-openb-nodes | openb node list (`openb_node_list_*.csv`) | NodeList |
| stepfun-faults | StepFun InfiniteHBD GPU-server fault trace (JSON) | FaultTrace |
| slurm-sacct | Slurm accounting dump (`sacct -P`) | JobTrace |
| swf | Standard Workload Format (Parallel Workloads Archive) | JobTrace |
| gpufleet-jobs | gpufleet's own job list (what `gpufleet import` writes) | JobTrace |
| tiresias | the research simulators' job CSV (Tiresias; Gavel's Tiresias-derived traces) | JobTrace |
| philly-runtime | Philly job run times (`philly_runtime.csv`) | JobTrace |
| philly-node-sequence | Philly servers in use and online per minute (Helios artifact) | NodeSequence |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gpufleet.errors import InputError, Problem

FORMATS: dict[str, str] = {
    "alibaba-openb": "Alibaba GPU trace v2023 pod list (openb_pod_list_*.csv)",
    "generic-jobs": "job CSV: submit, gpus, duration (or start/end), optional name/team/queue/priority/status",
    "azure-llm": "Azure LLM inference trace 2023 (TIMESTAMP, ContextTokens, GeneratedTokens)",
    "generic-requests": "request CSV or JSON Lines: arrival, input_tokens, output_tokens",
    "cluster-summary": "published cluster summary CSV (AcmeTrace cluster_summary.csv, Helios summary)",
    "alibaba-openb-nodes": "Alibaba GPU trace v2023 node list (openb_node_list_*.csv)",
    "stepfun-faults": "StepFun InfiniteHBD GPU-server fault trace (fault_trace.json)",
    "slurm-sacct": "Slurm accounting dump (sacct -P): Submit, Start, End, AllocTRES gres/gpu, Timelimit, State, ...",
    "swf": "Standard Workload Format of the Parallel Workloads Archive (18 fields, -1 unknown)",
    "gpufleet-jobs": "gpufleet's job list CSV (submit, start, end, gpus, gpus_per_group, time_limit_s, ...)",
    "tiresias": "research simulators' job CSV: job_id, num_gpu, submit_time, iterations, model_name, duration, "
                "interval (seconds; Tiresias, Gavel)",
    "philly-runtime": "Philly job run times (philly_runtime.csv: runtime, seconds; no submit times or GPU counts)",
    "philly-node-sequence": "Philly servers in use and online per minute (Helios artifact philly_node_sequence.csv)",
}
JOB_FORMATS = ("alibaba-openb", "generic-jobs", "slurm-sacct", "swf", "gpufleet-jobs", "tiresias", "philly-runtime")
REQUEST_FORMATS = ("azure-llm", "generic-requests")


@dataclass
class ReadOptions:
    """Format options from the command line or a scenario.

    Attributes:
        columns: field -> column for the generic formats (None: the defaults).
        time_unit: unit of times (generic formats).
        duration_unit: unit of durations (generic-jobs).
        jsonl: read JSON Lines (generic-requests; default by file suffix).
    """

    columns: dict[str, str | None] | None = None
    time_unit: str | None = None
    duration_unit: str | None = None
    jsonl: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_format(name: str) -> str:
    """`name` if it is a known format, else InputError listing them."""
    if name not in FORMATS:
        raise InputError([Problem(f"unknown trace format {name!r}; choose one of: {', '.join(FORMATS)}")])
    return name


def parse_columns(text: str | None) -> dict[str, str | None] | None:
    """'submit=ts,gpus=n,duration=' -> {'submit': 'ts', 'gpus': 'n', 'duration': None}."""
    if text is None:
        return None
    mapping: dict[str, str | None] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        field_name, sep, column = item.partition("=")
        if not sep:
            raise InputError([Problem(f"--columns: {item!r} is not FIELD=COLUMN (e.g. submit=submit_time)")])
        mapping[field_name.strip()] = column.strip() or None
    return mapping


def read_trace(path: str | Path, format_name: str, options: ReadOptions | None = None) -> Any:
    """Read a trace of any format (see the module table for what comes back)."""
    options = options or ReadOptions()
    check_format(format_name)
    path = Path(path)
    if format_name not in ("generic-jobs", "generic-requests"):
        fixed = ("time_unit", "duration_unit") if format_name == "slurm-sacct" else \
            ("columns", "time_unit", "duration_unit")
        given = [name for name in fixed if getattr(options, name) is not None]
        if given:
            raise InputError([Problem(f"{', '.join(given)}: only the generic formats take a column mapping or "
                                      f"units ({format_name} has a fixed layout)")])
    if format_name == "alibaba-openb":
        from gpufleet.traces.openb import read_pods

        return read_pods(path)
    if format_name in ("slurm-sacct", "swf", "gpufleet-jobs", "tiresias", "philly-runtime"):
        return read_job_trace(path, format_name, options.columns)
    if format_name == "philly-node-sequence":
        from gpufleet.traces.philly import read_node_sequence

        return read_node_sequence(path)
    if format_name == "alibaba-openb-nodes":
        from gpufleet.traces.openb import read_nodes

        return read_nodes(path)
    if format_name == "generic-jobs":
        from gpufleet.spec.units import check_duration_unit, check_time_unit
        from gpufleet.spec.workload import TraceColumns
        from gpufleet.traces.generic import read_jobs

        columns = _validated(TraceColumns, options.columns, "--columns")
        time_unit = _unit(check_time_unit, options.time_unit or "s", "--time-unit")
        duration_unit = _unit(check_duration_unit, options.duration_unit or "s", "--duration-unit")
        return read_jobs(path, columns, time_unit, duration_unit)
    if format_name in REQUEST_FORMATS:
        from gpufleet.spec.request_format import RequestColumns, RequestFormat
        from gpufleet.traces.requests import AZURE, read_requests

        if format_name == "azure-llm":
            return read_requests(path, AZURE, "azure-llm", jsonl=False)
        if options.duration_unit is not None:
            raise InputError([Problem("--duration-unit: request traces have no durations")])
        columns = _validated(RequestColumns, options.columns, "--columns") or RequestColumns()
        how = _validated(RequestFormat, {"columns": columns.model_dump(), "time_unit": options.time_unit or "s"},
                         "--time-unit")
        return read_requests(path, how, "generic-requests", jsonl=options.jsonl)
    if format_name == "cluster-summary":
        from gpufleet.traces.summary import read_summary

        return read_summary(path)
    from gpufleet.traces.faults import read_faults

    return read_faults(path, servers=options.extra.get("servers"), observed_days=options.extra.get("days"))


def read_job_trace(path: Path, format_name: str, columns: dict[str, str | None] | None = None) -> Any:
    """A job trace of a fixed-layout format (slurm-sacct, swf, gpufleet-jobs, tiresias, philly-runtime)."""
    if format_name == "slurm-sacct":
        from gpufleet.spec.workload import TraceColumns
        from gpufleet.traces.sacct import read_sacct

        return read_sacct(path, _validated(TraceColumns, columns, "--columns"))
    if format_name == "swf":
        from gpufleet.traces.swf import read_swf

        return read_swf(path)
    if format_name == "tiresias":
        from gpufleet.traces.tiresias import read_tiresias

        return read_tiresias(path)
    if format_name == "philly-runtime":
        from gpufleet.traces.philly import read_runtimes

        return read_runtimes(path)
    from gpufleet.traces.jobfile import read_job_file

    return read_job_file(path)


def _validated(model: Any, data: dict[str, Any] | None, option: str) -> Any:
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = ("unknown field (fields: " + ", ".join(model.model_fields) + ")"
                       if error["type"] == "extra_forbidden" else str(error["msg"]).removeprefix("Value error, "))
            problems.append(Problem(f"{option}: {where}: {message}" if where else f"{option}: {message}"))
        raise InputError(problems) from None


def _unit(check: Any, value: str, option: str) -> str:
    try:
        return check(value)
    except ValueError as exc:
        raise InputError([Problem(f"{option}: {exc}")]) from None


def characterise(trace: Any) -> dict[str, Any]:
    """The statistics of whatever `read_trace` returned."""
    from gpufleet.traces.faults import FaultTrace, fault_stats
    from gpufleet.traces.openb import NodeList
    from gpufleet.traces.philly import NodeSequence, node_sequence_stats
    from gpufleet.traces.stats import job_stats, node_stats, request_stats
    from gpufleet.traces.summary import ClusterSummary, summary_stats
    from gpufleet.traces.tables import JobTrace, RequestTrace

    if isinstance(trace, JobTrace):
        return job_stats(trace)
    if isinstance(trace, RequestTrace):
        return request_stats(trace)
    if isinstance(trace, ClusterSummary):
        return summary_stats(trace)
    if isinstance(trace, NodeList):
        return node_stats(trace)
    if isinstance(trace, FaultTrace):
        return fault_stats(trace)
    if isinstance(trace, NodeSequence):
        return node_sequence_stats(trace)
    raise TypeError(f"cannot characterise {type(trace).__name__}")
