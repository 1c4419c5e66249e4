"""`gpufleet import kueue|slurm`, `gpufleet export kueue|slurm`, `gpufleet admit`: real clusters in, what-if out.

Examples:
    gpufleet import kueue queues.yaml --nodes nodes.json --workloads workloads.yaml -o cluster.yaml
    gpufleet import slurm --conf slurm.conf --topology topology.conf --sacct sacct.log -o cluster.yaml
    gpufleet export kueue cluster.yaml -o kueue.yaml
    gpufleet export slurm cluster.yaml -o slurm-config/
    gpufleet admit cluster.yaml job.yaml --at 2026-05-01T12:00:00 --replications 20
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from gpufleet.cli.common import console, errors, fail
from gpufleet.errors import InputError, Problem

import_app = typer.Typer(no_args_is_help=True, help="Import a cluster's configuration and job records as a scenario.")
export_app = typer.Typer(no_args_is_help=True, help="Write a scenario's queues, quotas and fleet in Kueue's or "
                                                    "Slurm's own format.")

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Scenario file to write [default: NAME.yaml]; its "
                                                                    "job records and import report go beside it.")]
NameOption = Annotated[str | None, typer.Option(help="Scenario name [default: from the files].")]
StartOption = Annotated[str | None, typer.Option(help="Scenario start (ISO date or date-time) [default: the day of "
                                                      "the first record].")]
EndOption = Annotated[str | None, typer.Option(help="Scenario end [default: two days after the last record].")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Also write the import report here.")]


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError([Problem(f"{option} {text!r} is not a date or date-time (YYYY-MM-DD[THH:MM:SS])")]) from None
    if when.tzinfo is not None:
        from datetime import UTC

        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


@import_app.command("kueue")
def import_kueue(
    files: Annotated[list[Path], typer.Argument(help="Files of Kueue objects: multi-document YAML or "
                                                     "kubectl get -o json|yaml lists.")],
    nodes: Annotated[Path | None, typer.Option(help="Nodes: kubectl get nodes -o json.")] = None,
    workloads: Annotated[list[Path] | None, typer.Option(help="Workloads (Workload, Job, JobSet, "
                                                              "LeaderWorkerSet, Pod objects); repeatable.")] = None,
    out: OutOption = None,
    name: NameOption = None,
    start: StartOption = None,
    end: EndOption = None,
    gpu_resource: Annotated[list[str] | None, typer.Option(
        help="Resource names that are GPUs [default: nvidia.com/gpu, amd.com/gpu]; repeatable.")] = None,
    gpus_per_node: Annotated[int | None, typer.Option(help="GPUs per node of a fleet sized from quota "
                                                           "(no --nodes).")] = None,
    allow_overcommit: Annotated[bool, typer.Option(help="Accept nominal quota above the nodes' GPUs.")] = False,
    json_out: JsonOption = None,
) -> None:
    """Kueue ResourceFlavors, ClusterQueues, Cohorts, LocalQueues, priority classes, Topology, nodes and
    workloads -> a scenario, its job records and an import report."""
    from gpufleet.interop.kueue import import_kueue as read
    from gpufleet.interop.kueue_config import GPU_RESOURCES

    try:
        if gpus_per_node is not None and gpus_per_node < 1:
            raise InputError([Problem(f"--gpus-per-node {gpus_per_node}: at least 1")])
        target = out or Path(f"{(name or files[0].stem).replace('_', '-')}.yaml")
        imported = read(files, target, nodes=nodes, workloads=workloads, name=name, start=_when(start, "--start"),
                        end=_when(end, "--end"), gpu_resources=tuple(gpu_resource) if gpu_resource else GPU_RESOURCES,
                        gpus_per_node=gpus_per_node, allow_overcommit=allow_overcommit)
        written = _write(imported, target, json_out)
    except InputError as error:
        fail(error)
    _show(imported, written)


@import_app.command("slurm")
def import_slurm(
    conf: Annotated[Path | None, typer.Option(help="slurm.conf (nodes, partitions, scheduler).")] = None,
    topology: Annotated[Path | None, typer.Option(help="topology.conf or topology.yaml.")] = None,
    topology_name: Annotated[str | None, typer.Option(help="topology.yaml: which topology [default: the "
                                                           "cluster_default one].")] = None,
    gres: Annotated[Path | None, typer.Option(help="gres.conf, to check and type the GPUs.")] = None,
    sacct: Annotated[Path | None, typer.Option(help="sacct -P dump of the jobs (with its header line).")] = None,
    resource: Annotated[str, typer.Option(help="The scheduled unit: gpu, cpu (replay a CPU cluster) or node.")]
    = "gpu",
    out: OutOption = None,
    name: NameOption = None,
    start: StartOption = None,
    end: EndOption = None,
    json_out: JsonOption = None,
) -> None:
    """slurm.conf (nodes with Gres=gpu:N, partitions), topology (tree or block) and a sacct dump -> a scenario,
    its job records and an import report."""
    from gpufleet.interop.slurm import import_slurm as read

    try:
        stem = name or (conf.stem if conf is not None else sacct.stem if sacct is not None else "slurm")
        target = out or Path(f"{stem.replace('_', '-')}.yaml")
        imported = read(target, conf=conf, topology=topology, sacct=sacct, gres=gres, name=name,
                        start=_when(start, "--start"), end=_when(end, "--end"), resource=resource,
                        topology_name=topology_name)
        written = _write(imported, target, json_out)
    except InputError as error:
        fail(error)
    _show(imported, written)


def _write(imported: Any, target: Path, json_out: Path | None) -> list[Path]:
    from gpufleet.interop.report import jobs_path, report_path
    from gpufleet.interop.scenario import write_import
    from gpufleet.sim.load import load_scenario
    from gpufleet.staging import write_whole

    write_import(imported, target, load_scenario)
    written = [target] + ([jobs_path(target)] if imported.records else []) + [report_path(target)]
    if json_out is not None:
        write_whole(json_out, imported.report.to_json())
        written.append(json_out)
    return written


def _show(imported: Any, written: list[Path]) -> None:
    report = imported.report
    scenario = imported.scenario
    console.print(f"[bold]{scenario['name']}[/]: read " + ", ".join(
        f"{count} {kind}" for kind, count in report.objects.items()), highlight=False, soft_wrap=True)
    fleet = Table(title="Fleet", title_justify="left")
    for column in ("pool", "GPU type", "racks", "nodes/rack", "GPUs/node", "GPUs", "racks/block"):
        fleet.add_column(column, justify="left" if column in ("pool", "GPU type") else "right")
    for pool in scenario["fleet"]["pools"]:
        racks = sum(change["racks"] for change in pool["deliveries"])
        fleet.add_row(pool["name"], pool["gpu"], f"{racks:,}", str(pool["nodes_per_rack"]), str(pool["gpus_per_node"]),
                      f"{racks * pool['nodes_per_rack'] * pool['gpus_per_node']:,}", str(pool["racks_per_block"]))
    console.print(fleet)
    queues = scenario["scheduler"].get("queues") or []
    if queues:
        table = Table(title=f"Queues (policy {scenario['scheduler']['policy']}, backfill "
                            f"{scenario['scheduler']['backfill']})", title_justify="left")
        for column in ("queue", "cohort", "nominal GPUs", "limits", "strategy", "tenants"):
            table.add_column(column)
        for queue in queues:
            limits = ", ".join([f"borrow {k} {v}" for k, v in (queue.get("borrowing_limit") or {}).items()]
                               + [f"lend {k} {v}" for k, v in (queue.get("lending_limit") or {}).items()])
            table.add_row(queue["name"], queue.get("cohort") or "", ", ".join(
                f"{k} {v}" for k, v in queue["nominal"].items()) or "none", limits,
                queue.get("queueing_strategy", "BestEffortFIFO"), str(len(queue["tenants"])))
        console.print(table)
    missing = report.not_modelled()
    if missing:
        table = Table(title=f"Not modelled ({len(report.mapped())} fields mapped)", title_justify="left")
        for column in ("kind", "field", "objects", "why"):
            table.add_column(column, justify="right" if column == "objects" else "left", overflow="fold")
        for row in missing:
            table.add_row(row["kind"], escape(row["field"]), f"{row['objects']:,}", escape(row["not_modelled"]))
        console.print(table)
    if report.jobs is not None:
        jobs = report.jobs
        console.print(f"Job records: {jobs['rows']:,} read, {jobs['kept']:,} kept, {jobs['bad_rows']:,} bad"
                      + "".join(f"; left out, {reason}: {count:,}" for reason, count in jobs["left_out"].items()),
                      highlight=False, soft_wrap=True)
        for row in jobs["bad_examples"][:10]:
            console.print(f"  bad line {row['line']}: {escape(row['message'])}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    console.print("Wrote " + ", ".join(str(path) for path in written), highlight=False, soft_wrap=True)


@export_app.command("kueue")
def export_kueue(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML here [default: print it].")] = None,
) -> None:
    """The scenario's flavors, queues, cohorts, priority classes, topology and nodes as Kueue objects."""
    _export(scenario, "kueue", out)


@export_app.command("slurm")
def export_slurm(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for slurm.conf and topology.conf "
                                                                 "[default: print them].")] = None,
) -> None:
    """The scenario's nodes, partitions and topology as slurm.conf and topology.conf."""
    _export(scenario, "slurm", out)


def _export(scenario: str, system: str, out: Path | None) -> None:
    from gpufleet import api
    from gpufleet.staging import write_whole

    try:
        exported = api.export(api.load(scenario), system)
        if out is not None:
            if system == "kueue":
                write_whole(out, next(iter(exported.files.values())))
            else:
                for name, text in exported.files.items():
                    write_whole(out / name, text)
    except InputError as error:
        fail(error)
    if out is None:
        for name, text in exported.files.items():
            if len(exported.files) > 1:
                typer.echo(f"# ---- {name}")
            typer.echo(text, nl=False)
    for note in exported.notes:
        errors.print(f"note: {note}", highlight=False, soft_wrap=True)
    if out is not None:
        errors.print(f"Wrote {out}" + (f"/{{{','.join(exported.files)}}}" if system == "slurm" else ""))


def admit(
    scenario: Annotated[str, typer.Argument(help="An imported scenario (with its job records).")],
    job: Annotated[Path, typer.Argument(help="The job: a Kueue workload (Job, JobSet, Workload, ...) or a gpufleet "
                                             "job mapping {name, gpus, team, ...}.")],
    at: Annotated[str | None, typer.Option(help="The moment (ISO date-time, UTC) [default: the last recorded "
                                                "event].")] = None,
    replications: Annotated[int, typer.Option(help="Runs that re-draw the running and queued jobs' run "
                                                   "times.")] = 20,
    seed: Annotated[int | None, typer.Option(help="Seed of the draws and runs [default: the scenario's].")] = None,
    horizon_days: Annotated[float, typer.Option(help="How far to simulate forward.")] = 30.0,
    recorded: Annotated[bool, typer.Option(help="Use the recorded ends instead of draws (what did happen).")]
    = False,
    runtime_hours: Annotated[float | None, typer.Option(help="Run time of every job with none recorded or "
                                                             "drawable.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the answer as JSON.")] = None,
) -> None:
    """Would the job be admitted now? Where (flavor, racks, blocks), or every reason not (quota, borrowing,
    room, fragmentation, topology, order); and when it would start, with a band over replications."""
    from gpufleet import api
    from gpufleet.interop.report import read_report, report_path
    from gpufleet.staging import write_whole

    try:
        spec = api.load(scenario)
        report = read_report(report_path(scenario)) if Path(scenario).suffix in (".yaml", ".yml") else None
        answer = api.admit(spec, job, at=_when(at, "--at"), replications=replications, seed=seed,
                           horizon_days=horizon_days, recorded=recorded, runtime_hours=runtime_hours, report=report)
        if json_out is not None:
            write_whole(json_out, json.dumps(answer.as_dict(), indent=2) + "\n")
    except InputError as error:
        fail(error)
    _show_admission(answer, report is not None)


def _show_admission(answer: Any, named: bool) -> None:
    from gpufleet.results.admission import explain

    decision, outlook = answer.decision, answer.forecast
    for note in answer.notes:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    when = answer.at.isoformat(sep=" ")
    if decision.admitted:
        console.print(f"[bold green]admitted[/] at {when} on pool {escape(decision.pool or '')}: racks "
                      f"{escape(', '.join(decision.racks))}; blocks {escape(', '.join(decision.blocks))}",
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"[bold yellow]not admitted[/] at {when}: {escape(explain(decision.reason) or 'waiting')}",
                      highlight=False, soft_wrap=True)
        if decision.blocked_by:
            console.print(f"first in its queue: {escape(decision.blocked_by)}", highlight=False, soft_wrap=True)
        table = Table(title="Why not, pool by pool", title_justify="left")
        for column in ("pool", "flavor", "kind", "detail"):
            table.add_column(column, overflow="fold")
        for check in decision.checks:
            table.add_row(escape(check.pool), escape(check.flavor), check.kind, escape(check.detail))
        console.print(table)
    if not named:
        console.print("note: no import report beside the scenario: racks and blocks are numbered, not named",
                      highlight=False, soft_wrap=True)
    if outlook is None:
        return
    table = Table(title=f"When it starts ({outlook.started} of {outlook.replications} replications start it by "
                        f"{outlook.horizon.isoformat(sep=' ')})", title_justify="left")
    for column in ("quantile", "start", "wait (h)"):
        table.add_column(column, justify="right")
    for key, value in outlook.start.items():
        wait = outlook.wait_h[key]
        table.add_row(key, value.isoformat(sep=" ", timespec="seconds") if value else "after the horizon",
                      f"{wait:.2f}" if wait is not None else "-")
    console.print(table)
    if outlook.pools:
        console.print("started on: " + escape(", ".join(f"{pool} ({count})" for pool, count in outlook.pools.items())),
                      highlight=False, soft_wrap=True)
    if outlook.reasons:
        console.print("waited because (replications): " + escape("; ".join(
            f"{reason} ({count})" for reason, count in sorted(outlook.reasons.items(), key=lambda item: -item[1]))),
            highlight=False, soft_wrap=True)
