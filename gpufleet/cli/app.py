"""The `gpufleet` command: every verb group registered on one typer app.

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
    gpufleet ui                               # the dashboard over runs/, on 127.0.0.1:8000
"""

from __future__ import annotations

import typer

from gpufleet.cli.faults import checkpoint_advice, faults_app
from gpufleet.cli.interop import admit, export_app, import_app
from gpufleet.cli.many import plan, sweep
from gpufleet.cli.run import compare, run
from gpufleet.cli.runs import runs_app
from gpufleet.cli.scenario import scenarios, schema, validate
from gpufleet.cli.trace import trace_app
from gpufleet.ui.command import ui

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan, simulate and schedule hyperscale AI compute.")
app.add_typer(trace_app, name="trace")
app.add_typer(faults_app, name="faults")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.command("admit")(admit)
app.command()(run)
app.command()(compare)
app.command("checkpoint-advice")(checkpoint_advice)
app.command()(validate)
app.command()(schema)
app.command()(scenarios)
app.command()(sweep)
app.command()(plan)
app.add_typer(runs_app, name="runs")
app.command("ui")(ui)


def main() -> None:
    app()
