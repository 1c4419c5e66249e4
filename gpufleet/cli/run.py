"""`gpufleet run` and `gpufleet compare`: simulate a scenario, or several variants of it."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gpufleet.cli.common import RayAddress, SendBack, StoreDir, UseRay, Workers, console, fail, parse_date
from gpufleet.cli.many import run_replications
from gpufleet.errors import InputError, Problem
from gpufleet.scenarios import DEFAULT
from gpufleet.sim.engine_choice import EngineChoice


def run(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")] = DEFAULT,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory [default: runs/<name>].")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop early at this date (YYYY-MM-DD).")] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    replications: Annotated[int, typer.Option(help="Run seeds seed..seed+N-1 into the run store and report "
                                                   "every number as a mean with a 95% interval.")] = 1,
    workers: Workers = None, ray: UseRay = False, ray_address: RayAddress = None, store: StoreDir = None,
    send_back: SendBack = False,
    engine: Annotated[EngineChoice, typer.Option(
        help="auto: the native core when it covers the run (docs/engine.md), else the Python engine; "
             "native: the core or an error; python: the reference engine. Same results either way.")]
    = EngineChoice.auto,
) -> None:
    """Simulate a scenario; print the summary and write summary.json, jobs.parquet,
    timeseries.parquet, ledger.parquet, report.html and, when the scenario has them,
    failures.parquet, serving.parquet, serving_monthly.parquet and contracts_ledger.parquet
    (a ledger per contract, docs/portfolio.md). With --replications N:
    N seeds through the run store, replications.json/.parquet and a report with bands."""
    from gpufleet import api
    from gpufleet.report.terminal import assumption_table, summary_tables

    if replications != 1:
        if replications < 1:
            fail(InputError([Problem(f"--replications {replications}: at least 1")]))
        run_replications(scenario, replications, seed, parse_date(until, "--until"), out, report, workers, ray,
                         ray_address, store, send_back)
        return
    try:
        spec = api.load(scenario)
        stop = parse_date(until, "--until")
        horizon = min(stop, spec.end) if stop else spec.end
        total_s = (horizon - spec.start).total_seconds()
        began = time.perf_counter()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[date]}"),
                      TextColumn("{task.fields[jobs]:>10,} jobs done"),
                      TextColumn("{task.fields[rate]:>9,.0f} events/s"),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            task = progress.add_task(spec.name, total=total_s, date=spec.start.date().isoformat(), jobs=0, rate=0.0)

            def on_progress(now_s: float, jobs_done: int, events: int) -> None:
                elapsed = max(time.perf_counter() - began, 1e-9)
                progress.update(task, completed=now_s, jobs=jobs_done, rate=events / elapsed,
                                date=(spec.start + timedelta(seconds=now_s)).date().isoformat())

            result = api.run(spec, seed=seed, until=stop, progress=on_progress, engine=engine)
        target = out or Path("runs") / spec.name
        api.write(result, target, report=report)
    except InputError as error:
        fail(error)
    for table in summary_tables(result.summary):
        console.print(table)
    notes = assumption_table(spec)
    if notes is not None:
        console.print(notes)
    elapsed = time.perf_counter() - began
    written = ", ".join(sorted(path.name for path in target.iterdir()))
    ran = f"{result.engine} engine" + (f" (the native core does not cover {result.engine_note})"
                                       if result.engine_note else "")
    console.print(f"{result.events:,} events in {elapsed:.1f} s on the {ran}. Wrote {target}/: {written}")


def compare(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")] = DEFAULT,
    policy: Annotated[str, typer.Option(help="Comma-separated queue policies, e.g. fifo,las,drf.")] = "fifo",
    placement: Annotated[str, typer.Option(help="Comma-separated placements, e.g. best_fit,spread.")] = "best_fit",
    sharing: Annotated[str | None, typer.Option(
        help="Comma-separated serving sharing modes for every service, e.g. preempt,quota:inference.")] = None,
    queueing: Annotated[str | None, typer.Option(
        help="Comma-separated queueing strategies for every queue: StrictFIFO,BestEffortFIFO.")] = None,
    backfill: Annotated[str | None, typer.Option(
        help="Comma-separated backfill modes: none,greedy,easy (a policy written NAME@MODE keeps its own).")] = None,
    preemption_scope: Annotated[str | None, typer.Option(
        "--preemption-scope", help="Comma-separated preemption scopes: first_blocked,any.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory [default: runs/<name>-compare].")]
    = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop early at this date (YYYY-MM-DD).")] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
) -> None:
    """Run policies x placements (x serving sharing modes x queueing strategies x backfill modes x
    preemption scopes) on the same workload and compare waits, completion times, utilisation,
    preemption and serving SLOs, overall, by job size and by queue."""
    from gpufleet import api
    from gpufleet.report.terminal import comparison_tables

    try:
        spec = api.load(scenario)
        stop = parse_date(until, "--until")
        policies = [name.strip() for name in policy.split(",") if name.strip()]
        placements = [name.strip() for name in placement.split(",") if name.strip()]
        horizon = min(stop, spec.end) if stop else spec.end
        total_s = (horizon - spec.start).total_seconds()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[date]}"),
                      TimeElapsedColumn(), console=console) as progress:
            tasks: dict[str, int] = {}

            def on_progress(name: str, now_s: float, jobs_done: int, events: int) -> None:
                del jobs_done, events  # Unused.
                if name not in tasks:
                    tasks[name] = progress.add_task(name, total=total_s, date="")
                progress.update(tasks[name], completed=now_s,
                                date=(spec.start + timedelta(seconds=now_s)).date().isoformat())

            sharings = _listed(sharing)
            queueings = _listed(queueing)
            comparison = api.compare(spec, policies, placements, seed=seed, until=stop, progress=on_progress,
                                     sharings=sharings, queueings=queueings, backfills=_listed(backfill),
                                     preemption_scopes=_listed(preemption_scope))
        target = out or Path("runs") / f"{spec.name}-compare"
        api.write(comparison, target, report=report)
    except InputError as error:
        fail(error)
    for table in comparison_tables(comparison):
        console.print(table)
    console.print(f"Wrote {target}/: comparison.json, comparison.parquet, variants/"
                  f"{', report.html' if report else ''}")


def _listed(text: str | None) -> list[str] | None:
    """'a, b,' -> ['a', 'b']; None stays None."""
    return [item.strip() for item in text.split(",") if item.strip()] if text else None
