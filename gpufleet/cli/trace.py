"""`gpufleet trace ...`: characterise and fit public traces, build a trace's fleet, replay it.

Examples:
    gpufleet trace formats
    gpufleet trace stats openb_pod_list_default.csv --format alibaba-openb --html openb.html
    gpufleet trace stats philly_runtime.csv --format generic-jobs --columns duration=runtime,submit=,gpus= \\
        --against cluster_summary.csv:Philly
    gpufleet trace stats AzureLLMInferenceTrace_conv.csv --format azure-llm --json conv.json
    gpufleet trace fit openb_pod_list_default.csv --format alibaba-openb --window 110: -o openb-fit.yaml
    gpufleet trace fleet openb_node_list_all_node.csv -o openb-fleet.yaml
    gpufleet trace fleet openb_node_list_all_node.csv --pods openb_pod_list_default.csv -o openb-replay.yaml
    gpufleet trace replay openb-replay --json waits.json
    gpufleet trace check my-scenario.yaml
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gpufleet.cli.common import fail
from gpufleet.errors import InputError, Problem
from gpufleet.staging import write_whole

trace_app = typer.Typer(no_args_is_help=True, help="Read, characterise and fit public cluster and inference traces.")
console = Console()  # these tables keep the terminal's width, piped or not

FormatOption = Annotated[str, typer.Option("--format", "-f", help="Trace format (`gpufleet trace formats`).")]
ColumnsOption = Annotated[str | None, typer.Option(
    help="Generic formats: FIELD=COLUMN pairs, comma-separated, e.g. submit=ts,gpus=n_gpu,duration=runtime; "
         "FIELD= marks a field the trace lacks.")]
TimeUnitOption = Annotated[str | None, typer.Option(
    help="Generic formats: unit of times: s, ms, us, min, h, d, iso, or a strptime format.")]
DurationUnitOption = Annotated[str | None, typer.Option(help="generic-jobs: unit of durations: s, ms, us, min, h, d.")]
StrictOption = Annotated[bool, typer.Option("--strict", help="A bad row is an error (exit 2) instead of counted.")]


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False, default=_plain) + "\n"


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _finite(data: Any) -> Any:
    """NaN and infinities become null (JSON has neither)."""
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    if isinstance(data, float) and (data != data or data in (float("inf"), float("-inf"))):
        return None
    return data


def _options(columns: str | None, time_unit: str | None, duration_unit: str | None, **extra: Any) -> Any:
    from gpufleet.traces.formats import ReadOptions, parse_columns

    return ReadOptions(columns=parse_columns(columns), time_unit=time_unit, duration_unit=duration_unit,
                       jsonl=extra.pop("jsonl", None), extra={k: v for k, v in extra.items() if v is not None})


@trace_app.command()
def formats() -> None:
    """List the trace formats."""
    from rich.table import Table

    from gpufleet.traces.formats import FORMATS

    table = Table(title="Trace formats", title_justify="left")
    table.add_column("format", style="bold")
    table.add_column("what")
    for name, what in FORMATS.items():
        table.add_row(name, what)
    console.print(table)


@trace_app.command()
def stats(
    file: Annotated[Path, typer.Argument(help="Trace file.")],
    format: FormatOption,
    columns: ColumnsOption = None,
    time_unit: TimeUnitOption = None,
    duration_unit: DurationUnitOption = None,
    jsonl: Annotated[bool | None, typer.Option(
        "--jsonl/--csv", help="generic-requests: JSON Lines or CSV (default: by the file suffix).")] = None,
    servers: Annotated[int | None, typer.Option(help="stepfun-faults: servers observed (400 for StepFun).")] = None,
    days: Annotated[float | None, typer.Option(help="stepfun-faults: days observed (default: to the last event).")
                    ] = None,
    against: Annotated[str | None, typer.Option(
        help="SUMMARY.csv:CLUSTER: set this trace's figures beside a published summary row.")] = None,
    strict: StrictOption = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the statistics as JSON.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write an HTML page with the distributions.")
                        ] = None,
) -> None:
    """Count, arrival rate by hour and weekday, sizes, run-time quantiles, GPU time by size class, outcomes."""
    from gpufleet.traces.formats import characterise, read_trace
    from gpufleet.traces.render import comparison_table, stats_tables

    try:
        if servers is not None and servers < 1:
            raise InputError([Problem(f"--servers {servers}: must be at least 1")])
        if days is not None and not days > 0:
            raise InputError([Problem(f"--days {days}: must be positive")])
        trace = read_trace(file, format, _options(columns, time_unit, duration_unit, jsonl=jsonl, servers=servers,
                                                  days=days))
        trace.report.check(strict)
        result = characterise(trace)
        comparison = None
        if against is not None:
            comparison = _against(against, result)
            result["published"] = comparison
        outputs: list[tuple[Path, str]] = []
        if json_out is not None:
            outputs.append((json_out, _json(_finite(result))))
        if html_out is not None:
            from gpufleet.traces.html import render

            outputs.append((html_out, render(_finite(result), f"gpufleet trace stats: {file.name}")))
        for path, text in outputs:
            write_whole(path, text)
    except InputError as error:
        fail(error)
    for table in stats_tables(result):
        console.print(table)
    if comparison is not None:
        console.print(comparison_table(comparison["figures"], f"Against {comparison['summary']} "
                                                              f"row {comparison['cluster']}"))
    for path, _ in outputs:
        console.print(f"Wrote {path}")


def _against(text: str, result: dict[str, Any]) -> dict[str, Any]:
    from gpufleet.traces.summary import compare_with_published, read_summary

    path, sep, cluster = text.rpartition(":")
    if not sep or not path or not cluster:
        raise InputError([Problem(f"--against {text!r}: expected SUMMARY.csv:CLUSTER, "
                                  "e.g. cluster_summary.csv:Philly")])
    if result["kind"] != "jobs":
        raise InputError([Problem("--against compares job traces with a published summary")])
    summary = read_summary(path)
    return {"summary": path, "cluster": cluster, "figures": compare_with_published(result, summary.row(cluster))}


def _window(text: str | None) -> tuple[float, float | None] | None:
    if text is None:
        return None
    start, sep, end = text.partition(":")
    try:
        lo = float(start) if start.strip() else 0.0
        hi = float(end) if sep and end.strip() else None
    except ValueError:
        raise InputError([Problem(f"--window {text!r}: expected START:END in days, e.g. 110: or 0:30")]) from None
    if lo < 0 or (hi is not None and hi <= lo):
        raise InputError([Problem(f"--window {text!r}: need 0 <= START < END")])
    return lo, hi


@trace_app.command()
def fit(
    file: Annotated[Path, typer.Argument(help="Job trace file.")],
    format: FormatOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the fitted workload (scenario YAML).")],
    columns: ColumnsOption = None,
    time_unit: TimeUnitOption = None,
    duration_unit: DurationUnitOption = None,
    name: Annotated[str, typer.Option(help="Name of the fitted workload.")] = "fitted",
    team: Annotated[str | None, typer.Option(help="Team of its jobs.")] = None,
    window: Annotated[str | None, typer.Option(
        help="Fit only jobs submitted START:END days after the first arrival (END may be empty).")] = None,
    max_sizes: Annotated[int, typer.Option(help="Most size components; rarer sizes join the nearest.")] = 12,
    group_size: Annotated[int, typer.Option(help="NVLink group cap of the generated jobs.")] = 8,
    gpu_sharing: Annotated[str, typer.Option(help="alibaba-openb sharing pods: whole_gpu or skip.")] = "whole_gpu",
    shape: Annotated[bool, typer.Option(help="Fit hour-of-day and weekday shapes.")] = True,
    growth: Annotated[bool, typer.Option(help="Fit monthly growth.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the round-trip regeneration.")] = 0,
    strict: StrictOption = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the fit and its KS distances as JSON.")
                        ] = None,
) -> None:
    """Fit the synthetic generator (arrival rate and shapes, size mixture, lognormal run time per size),
    write it as scenario YAML and print the Kolmogorov-Smirnov distance of each distribution."""
    from gpufleet.spec.workload import GpuSharing
    from gpufleet.traces.formats import JOB_FORMATS, read_trace
    from gpufleet.traces.render import fit_tables
    from gpufleet.traces.tables import JobTrace
    from gpufleet.workload.fit import FitOptions
    from gpufleet.workload.fit import fit as fit_trace

    try:
        if format not in JOB_FORMATS:
            raise InputError([Problem(f"--format {format}: fit takes a job trace ({', '.join(JOB_FORMATS)})")])
        if max_sizes < 1 or group_size < 1:
            raise InputError([Problem("--max-sizes and --group-size must be at least 1")])
        if gpu_sharing not in GpuSharing.__members__:
            raise InputError([Problem(f"--gpu-sharing {gpu_sharing!r}: choose whole_gpu or skip")])
        options = FitOptions(name=name, team=team, max_sizes=max_sizes, group_size=group_size, shape=shape,
                             growth=growth, gpu_sharing=GpuSharing(gpu_sharing), seed=seed, window_days=_window(window))
        trace = read_trace(file, format, _options(columns, time_unit, duration_unit))
        assert isinstance(trace, JobTrace)
        trace.report.check(strict)
        result = fit_trace(trace, options)
        report = _finite(result.to_dict())
        report["read"] = trace.report.to_dict()
        write_whole(out, fitted_yaml(result, file, format))
        if json_out is not None:
            write_whole(json_out, _json(report))
    except InputError as error:
        fail(error)
    for table in fit_tables(report):
        console.print(table)
    console.print(f"Wrote {out}" + (f" and {json_out}" if json_out else ""))


def fitted_yaml(result: Any, file: Path, format_name: str) -> str:
    """The fitted workload as a `workloads:` list to paste into a scenario, with the fit in comments."""
    from gpufleet.traces.fleet import to_yaml

    good, trip = result.goodness, result.round_trip
    lines = [f"# Fitted by `gpufleet trace fit` from {file} ({format_name}): {result.jobs:,} jobs over "
             f"{result.span_days:,.2f} days.",
             "# Kolmogorov-Smirnov distance, model vs trace: " + ", ".join(
                 f"{key} {good[key]:.3f}" for key in ("arrival_time", "hour_of_day", "day_of_week", "gpus",
                                                      "duration")),
             f"# Regenerated with seed {trip['seed']} ({trip['jobs_generated']:,} jobs): " + ", ".join(
                 f"{key} {value:.3f}" for key, value in trip["ks"].items())]
    lines += [f"# Note: {note}" for note in result.notes]
    return to_yaml({"workloads": [{"synthetic": result.data}]}, "\n".join(lines) + "\n")


@trace_app.command()
def fleet(
    nodes: Annotated[Path, typer.Argument(help="openb node list (openb_node_list_all_node.csv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the YAML here.")],
    start: Annotated[str, typer.Option(help="Date the nodes are in place (YYYY-MM-DD).")] = "2023-01-02",
    pods: Annotated[Path | None, typer.Option(
        help="openb pod list: write a whole replay scenario (fleet + this trace under FIFO) instead of "
             "the gpu_types and fleet sections.")] = None,
    name: Annotated[str, typer.Option(help="Scenario name (with --pods).")] = "openb-replay",
    gpu_sharing: Annotated[str, typer.Option(help="With --pods: whole_gpu or skip.")] = "whole_gpu",
    strict: StrictOption = False,
) -> None:
    """Build a fleet from the openb node list: one pool per (GPU model, GPUs per node)."""
    from gpufleet.traces.fleet import fleet_sections, header_comment, replay_scenario, to_yaml
    from gpufleet.traces.openb import read_nodes, read_pods

    try:
        try:
            when = date.fromisoformat(start)
        except ValueError:
            raise InputError([Problem(f"--start {start!r} is not a date (use YYYY-MM-DD)")]) from None
        if gpu_sharing not in ("whole_gpu", "skip"):
            raise InputError([Problem(f"--gpu-sharing {gpu_sharing!r}: choose whole_gpu or skip")])
        node_list = read_nodes(nodes)
        node_list.report.check(strict)
        if pods is None:
            data = fleet_sections(node_list, when)
        else:
            pod_list = read_pods(pods)
            pod_list.report.check(strict)
            data = replay_scenario(node_list, pod_list, str(pods), name, when, gpu_sharing)
        text = to_yaml(data, header_comment(node_list))
        if pods is not None:
            from gpufleet.sim.load import parse_scenario

            parse_scenario(text, source=str(out))  # never write a scenario that does not load
        write_whole(out, text)
    except InputError as error:
        fail(error)
    pools = data["fleet"]["pools"]
    gpus = sum(pool["gpus_per_node"] * pool["deliveries"][0]["nodes"] for pool in pools)
    console.print(f"Wrote {out}: {len(pools)} pools, {gpus:,} GPUs"
                  + (f"; {int((node_list.gpus == 0).sum()):,} CPU-only nodes left out" if len(node_list) else ""))


@trace_app.command()
def replay(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name with a trace workload.")],
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's).")] = None,
    time_scale: Annotated[float | None, typer.Option(
        help="Override every trace workload's time_scale (0.1: arrivals ten times as dense).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write both wait distributions as JSON.")] = None,
) -> None:
    """Run a scenario and set each trace workload's simulated waits beside the trace's real ones."""
    from gpufleet import api
    from gpufleet.results.replay import compare_waits, with_time_scale
    from gpufleet.traces.render import wait_tables

    try:
        spec = api.load(scenario)
        if not any(entry.trace is not None for entry in spec.workloads):
            raise InputError([Problem(f"{scenario}: the scenario has no trace workload")])
        if time_scale is not None:
            if not time_scale > 0:
                raise InputError([Problem(f"--time-scale {time_scale}: must be positive")])
            spec = with_time_scale(spec, time_scale)
        result = api.run(spec, seed=seed)
        comparison = _finite(compare_waits(spec, result))
        if json_out is not None:
            write_whole(json_out, _json(comparison))
    except InputError as error:
        fail(error)
    for table in wait_tables(comparison):
        console.print(table)
    for workload in comparison["workloads"]:
        for note in workload["notes"]:
            console.print(f"note ({workload['name']}): {note}")
        for reason, count in workload["read"]["left_out"].items():
            console.print(f"left out ({workload['name']}): {reason}: {count:,}")
    if json_out is not None:
        console.print(f"Wrote {json_out}")


@trace_app.command()
def check(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")],
    strict: StrictOption = False,
) -> None:
    """Read every trace workload of a scenario and report rows kept, bad (with lines) and left out."""
    from gpufleet import api
    from gpufleet.traces.render import read_table
    from gpufleet.workload.trace import trace_jobs

    try:
        spec = api.load(scenario)
        reports = []
        for entry in spec.workloads:
            if entry.trace is None:
                continue
            trace_spec = entry.trace.model_copy(update={"strict": entry.trace.strict or strict})
            replayed = trace_jobs(trace_spec, spec)
            reports.append((entry.trace.name, replayed))
    except InputError as error:
        fail(error)
    if not reports:
        console.print(f"{scenario}: no trace workloads")
    for name, replayed in reports:
        console.print(read_table({"read": replayed.report.to_dict()}))
        jobs = sum(len(part) for part in replayed.parts)
        console.print(f"[bold]{name}[/]: {jobs:,} jobs replayed" + "".join(f"; {note}" for note in replayed.notes))
