"""`gpufleet validate`, `gpufleet schema`, `gpufleet scenarios`: what a scenario describes, its format,
the built-ins."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gpufleet.cli.common import console, fail
from gpufleet.errors import InputError
from gpufleet.scenarios import DEFAULT
from gpufleet.staging import write_whole


def validate(scenario: Annotated[str, typer.Argument(help="Scenario YAML file or built-in name.")]) -> None:
    """Check a scenario and print what it describes: capacity over time, workloads, contract."""
    from gpufleet import api
    from gpufleet.fleet.build import build_layout
    from gpufleet.report.terminal import scenario_tables

    try:
        spec = api.load(scenario)
    except InputError as error:
        fail(error)
    console.print(f"[green]ok[/]: {spec.name}: {spec.start.date()} to {spec.end.date()}, seed {spec.seed}")
    for table in scenario_tables(spec, build_layout(spec)):
        console.print(table)


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
            fail(error)


def scenarios() -> None:
    """List the built-in scenarios."""
    from gpufleet.scenarios import builtin_descriptions

    for name, description in builtin_descriptions():
        marker = " (default)" if name == DEFAULT else ""
        console.print(f"[bold]{name}[/]{marker}: {description}", highlight=False)
