"""`gpufleet faults ...`: fit failure models to fault logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from gpufleet.errors import InputError
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
    from gpufleet.cli import _fail, console
    from gpufleet.failures.fit import failures_yaml, fit_faults
    from gpufleet.traces.faults import read_faults

    try:
        trace = read_faults(path, servers=servers, observed_days=days)
        processes, figures = fit_faults(trace, str(path))
    except InputError as error:
        _fail(error)
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
            _fail(error)
        console.print(f"Wrote {out}")
