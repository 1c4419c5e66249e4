"""`gpufleet faults fit`: failure models from fault logs; `gpufleet checkpoint-advice`: what failures cost
per job size and how often to checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from gpufleet.cli.common import console, fail
from gpufleet.errors import InputError, Problem
from gpufleet.scenarios import DEFAULT
from gpufleet.staging import write_whole

faults_app = typer.Typer(no_args_is_help=True, help="Fit failure models to recorded fault logs.")


@faults_app.command("fit")
def fit(
    path: Annotated[Path, typer.Argument(help="Fault log (the StepFun fault_trace.json format).")],
    servers: Annotated[int, typer.Option(help="Servers the log covers (400 for the StepFun trace).")],
    days: Annotated[float | None, typer.Option(help="Days observed (default: time of the last event).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the `failures:` section here.")] = None,
) -> None:
    """Estimate failure rates per cause and repair-time distributions; write them as scenario YAML."""
    from gpufleet.failures.fit import failures_yaml, fit_faults
    from gpufleet.traces.faults import read_faults

    try:
        trace = read_faults(path, servers=servers, observed_days=days)
        processes, figures = fit_faults(trace, str(path))
    except InputError as error:
        fail(error)
    table = Table(title=f"{path.name}: {figures['faults']} faults, {servers} servers, "
                        f"{figures['observed_days']:.0f} days", title_justify="left")
    for column in ("process (level)", "faults", "per server-day", "repair p50", "repair p90", "top causes"):
        table.add_column(column, justify="left" if column in ("process (level)", "top causes") else "right")
    for process, (level, row) in zip(processes, figures["levels"].items(), strict=True):
        quantiles = process.repair.quantiles_hours or {}
        causes = sorted(process.causes.items(), key=lambda item: -item[1])[:3]
        table.add_row(f"{process.name} ({level})", f"{row['faults']}", f"{row['rate_per_server_day']:.5f}",
                      f"{quantiles.get(0.5, 0):.1f} h", f"{quantiles.get(0.9, 0):.1f} h",
                      ", ".join(f"{name} {count:.0f}" for name, count in causes))
    console.print(table)
    text = yaml.safe_dump(failures_yaml(processes), sort_keys=False)
    if out is None:
        Console().print(text, markup=False, highlight=False)
    else:
        try:
            write_whole(out, text)
        except InputError as error:
            fail(error)
        console.print(f"Wrote {out}")


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
        fail(error if isinstance(error, InputError) else InputError([Problem(f"no pool called {pool!r}")]))
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
