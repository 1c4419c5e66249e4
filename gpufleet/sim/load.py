"""Load a scenario for a run: the schema (`spec.loader`), then the checks across the
scenario (`sim.checks`), every problem naming its file, line and field."""

from __future__ import annotations

from pathlib import Path

from gpufleet.errors import InputError, Problem
from gpufleet.sim.checks import check_scenario
from gpufleet.spec.loader import locate, parse_spec, read_scenario_text
from gpufleet.spec.scenario import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load, validate and check a scenario file.

    Raises:
        InputError: listing every problem with its file, line and field.
    """
    path = Path(path)
    return parse_scenario(read_scenario_text(path), source=str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate and check scenario YAML text; `source` names it in error messages."""
    scenario, root = parse_spec(text, source)
    problems = [
        Problem(message, path=path, file=source, line=locate(root, path))
        for path, message in check_scenario(scenario)
    ]
    if problems:
        raise InputError(problems)
    return scenario
