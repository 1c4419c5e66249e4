"""The `gpufleet` command: run, validate, schema, scenarios.

Examples:
    gpufleet run                              # the default scenario (openai-aws-2025)
    gpufleet run my-fleet.yaml --out runs/a --seed 3
    gpufleet run openai-aws-2025 --until 2026-06-01
    gpufleet validate my-fleet.yaml
    gpufleet schema > scenario.schema.json
    gpufleet run openai-aws-2025 --until 2026-03-01 --replications 5 --workers 2
    gpufleet sweep my-sweep.yaml --ray
    gpufleet plan openai-aws-2025 --target 'wait_days[frontier-2027] <= 30' --vary expansion:2027-h1=0..500/50
    gpufleet runs list
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gpufleet.commands.common import RayAddress, SendBack, StoreDir, UseRay, Workers
from gpufleet.commands.many import plan, run_replications, sweep
from gpufleet.commands.runs import runs_app
from gpufleet.errors import InputError, Problem
from gpufleet.failures.cli import faults_app
from gpufleet.interop_cli import admit, export_app, import_app
from gpufleet.scenarios import DEFAULT
from gpufleet.sim.engine_choice import EngineChoice
from gpufleet.staging import write_whole
from gpufleet.traces.cli import trace_app
from gpufleet.ui.command import ui

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan, simulate and schedule hyperscale AI compute.")
app.add_typer(trace_app, name="trace")
app.add_typer(faults_app, name="faults")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.command("admit")(admit)
console = Console(width=None if sys.stdout.isatty() else 132)  # piped output: wide tables, no wrapping
errors = Console(stderr=True)


def _fail(error: InputError) -> NoReturn:
    for problem in error.problems:
        errors.print(f"[bold red]error[/]: {problem}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


def _parse_date(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        _fail(InputError([Problem(f"{option} {text!r} is not a date (use YYYY-MM-DD)")]))


@app.command()
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
            _fail(InputError([Problem(f"--replications {replications}: at least 1")]))
        run_replications(scenario, replications, seed, _parse_date(until, "--until"), out, report, workers, ray,
                         ray_address, store, send_back)
        return
    try:
        spec = api.load(scenario)
        stop = _parse_date(until, "--until")
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
        result.write(target, report=report)
    except InputError as error:
        _fail(error)
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


@app.command()
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
        stop = _parse_date(until, "--until")
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
        comparison.write(target, report=report)
    except InputError as error:
        _fail(error)
    for table in comparison_tables(comparison):
        console.print(table)
    console.print(f"Wrote {target}/: comparison.json, comparison.parquet, variants/"
                  f"{', report.html' if report else ''}")


def _listed(text: str | None) -> list[str] | None:
    """'a, b,' -> ['a', 'b']; None stays None."""
    return [item.strip() for item in text.split(",") if item.strip()] if text else None


@app.command("checkpoint-advice")
def checkpoint_advice(
    scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")] = DEFAULT,
    pool: Annotated[str | None, typer.Option(help="Pool to size jobs on (default: the largest).")] = None,
) -> None:
    """For each job size: interruptions per day, mean time between them, the Young/Daly
    checkpoint interval, the best interval, and the ETTR to expect (the exact renewal
    formula a run follows), from the scenario's failure processes."""
    from gpufleet import api
    from gpufleet.failures.advice import checkpoint_advice as advise
    from gpufleet.report.format import hours

    try:
        spec = api.load(scenario)
        rows = advise(spec, pool)
    except (InputError, KeyError) as error:
        _fail(error if isinstance(error, InputError) else InputError([Problem(f"no pool called {pool!r}")]))
    if spec.failures is None:
        console.print("[yellow]this scenario has no failures section: nothing interrupts its jobs[/]")
    checkpointing = spec.checkpointing
    table = Table(title=f"{spec.name}: checkpoint write {checkpointing.write_minutes:g} min, restart "
                        f"{checkpointing.restart_overhead_minutes:g} min", title_justify="left")
    columns = ["GPUs", "interruptions/day", "MTBI", "Young/Daly interval", "ETTR at Young/Daly", "best interval",
               "ETTR at best"]
    if rows and "ettr_at_configured" in rows[0]:
        columns.append(f"ETTR at {checkpointing.interval_hours:g} h")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        cells = [f"{row['gpus']:,}", f"{row['interruptions_per_day']:.2f}", hours(row["mtbi_h"]),
                 f"{row['young_daly_interval_h'] * 60:.1f} min", f"{row['ettr_at_young_daly']:.1%}",
                 f"{row['optimal_interval_h'] * 60:.1f} min", f"{row['ettr_at_optimal']:.1%}"]
        if "ettr_at_configured" in row:
            cells.append(f"{row['ettr_at_configured']:.1%}")
        table.add_row(*cells)
    console.print(table)


@app.command()
def validate(scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")]) -> None:
    """Check a scenario and print what it describes: capacity over time, workloads, contract."""
    from gpufleet import api
    from gpufleet.fleet.build import build_layout
    from gpufleet.report.terminal import scenario_tables

    try:
        spec = api.load(scenario)
    except InputError as error:
        _fail(error)
    console.print(f"[green]ok[/]: {spec.name}: {spec.start.date()} to {spec.end.date()}, seed {spec.seed}")
    for table in scenario_tables(spec, build_layout(spec)):
        console.print(table)


@app.command()
def schema(out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to a file.")] = None) -> None:
    """Print the JSON Schema of the scenario format (for editor completion and checks)."""
    from gpufleet.spec.scenario import Scenario

    text = json.dumps(Scenario.model_json_schema(), indent=2)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        try:
            write_whole(out, text + "\n")
        except InputError as error:
            _fail(error)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from gpufleet.scenarios import builtin_descriptions

    for name, description in builtin_descriptions():
        marker = " (default)" if name == DEFAULT else ""
        console.print(f"[bold]{name}[/]{marker}: {description}", highlight=False)


app.command()(sweep)
app.command()(plan)
app.add_typer(runs_app, name="runs")
app.command("ui")(ui)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
