"""`gpufleet sweep`, `gpufleet plan` and `gpufleet run --replications`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from gpufleet.cli.common import RayAddress, SendBack, StoreDir, UseRay, Workers, console, fail, runs_progress
from gpufleet.errors import InputError, Problem
from gpufleet.scenarios import DEFAULT


def run_replications(scenario: str, replications: int, seed: int | None, until: datetime | None, out: Path | None,
                     report: bool, workers: int | None, ray: bool, ray_address: str | None, store: Path | None,
                     send_back: bool) -> None:
    """`gpufleet run SCENARIO --replications N`: N seeds, every headline number as a mean with a 95% interval."""
    from gpufleet import api
    from gpufleet.report.replications import replication_tables, write_replication_report

    try:
        spec = api.load(scenario)
        with runs_progress(f"{spec.name} x{replications}", replications, workers) as on_progress:
            replicated = api.replicate(spec, replications, seed=seed, until=until, workers=workers, ray=ray,
                                       ray_address=ray_address, store_root=store, progress=on_progress,
                                       send_back=send_back)
        target = out or Path("runs") / f"{spec.name}-x{replications}"
        replicated.write(target, report=write_replication_report if report else None)
    except InputError as error:
        fail(error)
    for table in replication_tables(replicated):
        console.print(table)
    for record in replicated.failed:
        console.print(f"[red]seed {record.seed} failed[/]: {(record.error or '').splitlines()[0]}")
    console.print(f"{len(replicated.ok)} of {replications} replications ok; runs in {api.store(store).root}/runs/. "
                  f"Wrote {target}/: replications.json, replications.parquet{', report.html' if report else ''}")


def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep YAML file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory [default: runs/<sweep name>].")]
    = None,
    workers: Workers = None, ray: UseRay = False, ray_address: RayAddress = None, store: StoreDir = None,
    send_back: SendBack = False,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    show: Annotated[str | None, typer.Option(help="Comma-separated metrics for the terminal table.")] = None,
) -> None:
    """Run a sweep: every point x replications into the run store (skipping runs already
    there; a failed run is recorded and the sweep goes on). Writes sweep.json, table.parquet
    (one row per point, mean and CI of every metric), runs.parquet and report.html."""
    from gpufleet import api
    from gpufleet.report.sweep import sweep_table, write_sweep_report

    try:
        chosen = api.load_sweep(sweep_file)
        with runs_progress(f"sweep {chosen.spec.name}", chosen.total_runs(), workers) as on_progress:
            result = api.sweep(chosen, workers=workers, ray=ray, ray_address=ray_address, store_root=store,
                               progress=on_progress, send_back=send_back)
        target = out or Path("runs") / chosen.spec.name
        result.write(target, report=write_sweep_report if report else None)
    except InputError as error:
        fail(error)
    metrics = [name.strip() for name in show.split(",")] if show else None
    console.print(sweep_table(result, metrics))
    failed = sum(1 for record in result.records.values() if not record.ok)
    broken = sum(1 for point in result.points if point.error)
    console.print(f"{len(result.points)} points, {len(result.records)} runs ({failed} failed"
                  f"{f', {broken} points could not be built' if broken else ''}). Wrote {target}/: sweep.json, "
                  f"table.parquet, runs.parquet{', report.html' if report else ''}")


def plan(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file, built-in name, or a plan YAML file "
                                                 "(with --file).")] = DEFAULT,
    target: Annotated[list[str] | None, typer.Option("--target", "-t", help="METRIC <= VALUE or METRIC >= VALUE, "
                                                     "e.g. 'wait_days[frontier-2027] <= 30'. Repeat for more.")] = None,
    vary: Annotated[list[str] | None, typer.Option("--vary", "-v", help="LEVER=VALUES, e.g. "
                                                   "expansion:2027-h1=0..500/50. Repeat for more.")] = None,
    plan_file: Annotated[bool, typer.Option("--file", help="SCENARIO is a plan YAML file.")] = False,
    replications: Annotated[int, typer.Option(help="Seeds per plan.")] = 5,
    confidence: Annotated[float, typer.Option(help="Confidence each target is met with.")] = 0.9,
    seed: Annotated[int | None, typer.Option(help="First seed (default: the scenario's).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop every run at this date (YYYY-MM-DD).")] = None,
    decided: Annotated[str | None, typer.Option(help="Decision date for lead times (default: scenario start).")]
    = None,
    budget: Annotated[int, typer.Option(help="Most plans run per search.")] = 60,
    runner_ups: Annotated[int, typer.Option(help="Plans run after the answer, next by cost.")] = 2,
    sensitivity: Annotated[bool, typer.Option(help="Re-solve with demand moved (--demand).")] = True,
    demand: Annotated[str, typer.Option(help="Comma-separated demand factors the problem is re-solved with.")]
    = "0.9,1.1",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory [default: runs/<name>-plan].")]
    = None,
    workers: Workers = None, ray: UseRay = False, ray_address: RayAddress = None, store: StoreDir = None,
) -> None:
    """Find the cheapest plan meeting every target with the stated confidence across
    replications; print it with its cost against the commitment, the binding target, the
    runner-ups and the sensitivity; write plan.yaml (the plan as a scenario), plan.json and
    plans.parquet."""
    from gpufleet import api
    from gpufleet.report.plan_tables import plan_tables

    try:
        with runs_progress("plan", 0, workers) as on_progress:
            if plan_file:
                result = api.plan_file(scenario, workers=workers, ray=ray, ray_address=ray_address, store_root=store,
                                       progress=on_progress)
            else:
                if not target or not vary:
                    raise InputError([Problem("give at least one --target and one --vary (or a plan file with "
                                              "--file)")])
                spec = api.load(scenario)
                result = api.plan(spec, target, vary, replications=replications, confidence=confidence, seed=seed,
                                  until=_date(until, "--until"), decided=_date(decided, "--decided"), budget=budget,
                                  runner_ups=runner_ups,
                                  demand=_factors(demand) if sensitivity else (), workers=workers, ray=ray,
                                  ray_address=ray_address, store_root=store, progress=on_progress)
        target_dir = out or Path("runs") / f"{result.problem.name or result.problem.base.name}-plan"
        result.write(target_dir)
    except InputError as error:
        fail(error)
    for table in plan_tables(result):
        console.print(table)
    written = "plan.json, plans.parquet" + (", plan.yaml" if (target_dir / "plan.yaml").exists() else "")
    console.print(f"Wrote {target_dir}/: {written}")


def _factors(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError([Problem(f"--demand {text!r}: write comma-separated factors, e.g. 0.9,1.1")]) from None


def _date(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError([Problem(f"{option} {text!r} is not a date (use YYYY-MM-DD)")]) from None
