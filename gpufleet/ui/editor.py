"""The scenario editor's checks: the same loader as the CLI (YAML, the schema's models, the
cross-field checks; every problem with file, line and field), and two more for text that
comes over the network:

- a file the scenario names (`path:` of a trace, a run-time trace, a request trace) must
  lie in an allowed folder; a relative path is read from the first of them (the runs
  folder's `uploads/`). This is checked before anything reads the file, and the path is
  pinned to the file checked.
- YAML aliases may not expand into more than `MAX_NODES` nodes (a "billion laughs"
  document is refused before the models see it).

A sweep for the dashboard is a sweep file whose `base` is the scenario in the editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gpufleet.errors import InputError, Problem, format_path
from gpufleet.plan.sweep import Sweep, check_axes
from gpufleet.plan.sweep_spec import SweepSpec
from gpufleet.sim.checks import check_scenario
from gpufleet.spec.loader import locate, read_yaml, validation_problems
from gpufleet.spec.scenario import Scenario
from gpufleet.ui.security import inside, safe_name
from gpufleet.ui.settings import RESERVED

SOURCE = "scenario.yaml"
SWEEP_SOURCE = "sweep.yaml"
MAX_NODES = 2_000_000
"""Most YAML nodes a document may expand to through its aliases."""


@dataclass(frozen=True)
class Checked:
    """A scenario text checked: the scenario, or every problem with it."""

    problems: list[Problem]
    scenario: Scenario | None = None

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.problems


@dataclass(frozen=True)
class CheckedSweep:
    problems: list[Problem]
    spec: SweepSpec | None = None
    runs: int = 0
    points: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def expanded_nodes(root: yaml.Node | None, limit: int = MAX_NODES) -> int:
    """How many nodes the document holds with every alias expanded (counting stops past `limit`)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key) + size(value)
                if total > limit:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > limit:
                    break
        sizes[id(node)] = total
        return total

    return size(root) if root is not None else 0


def _file_fields(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:  # noqa: ANN401
    """(field path of the mapping, mapping) for every mapping with a string `path` key."""
    found: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    seen: set[int] = set()
    stack: list[tuple[tuple[str | int, ...], Any]] = [(path, data)]
    while stack:
        where, item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            if isinstance(item.get("path"), str):
                found.append((where, item))
            stack += [((*where, str(key)), value) for key, value in item.items()]
        elif isinstance(item, list):
            stack += [((*where, index), value) for index, value in enumerate(item)]
    return found


def pin_files(data: Any, root: yaml.Node | None, allowed: tuple[Path, ...], source: str) -> list[Problem]:  # noqa: ANN401
    """Every file the scenario names, made absolute (relative: in the first allowed folder)
    and checked to lie in an allowed folder, links followed, and to be there; problems for
    those that do not (the CLI finds a missing file only when the run reads it)."""
    problems = []
    for where, mapping in _file_fields(data):
        named = Path(mapping["path"]).expanduser()
        resolved = (named if named.is_absolute() else allowed[0] / named).resolve()
        if not any(inside(resolved, folder) for folder in allowed):
            problems.append(Problem(f"the dashboard reads files only in {', '.join(str(f) for f in allowed)} "
                                    f"(got {mapping['path']!r}): upload the file, or start `gpufleet ui` with "
                                    "--data FOLDER", path=(*where, "path"), file=source,
                            line=locate(root, (*where, "path"))))
        elif not resolved.is_file():
            problems.append(Problem(f"no file {mapping['path']!r} in {resolved.parent} (upload it first)",
                                    path=(*where, "path"), file=source, line=locate(root, (*where, "path"))))
        else:
            mapping["path"] = str(resolved)
    return problems


def check_scenario_text(text: str, allowed: tuple[Path, ...], source: str = SOURCE) -> Checked:
    """Check scenario YAML as `gpufleet validate` would, with the dashboard's two extra checks."""
    try:
        root, data = read_yaml(text, source)
    except InputError as error:
        return Checked(error.problems)
    if expanded_nodes(root) > MAX_NODES:
        return Checked([Problem(f"the document expands to more than {MAX_NODES:,} YAML nodes through its aliases",
                                file=source, line=1)])
    if not isinstance(data, dict):
        return Checked([Problem("a scenario is a YAML mapping (name, start, end, fleet, ...)", file=source, line=1)])
    problems = pin_files(data, root, allowed, source)
    if problems:
        return Checked(problems)
    try:
        scenario = Scenario.model_validate(data, context={"source": source})
    except ValidationError as error:
        return Checked(validation_problems(error, root, source))
    problems = [Problem(message, path=path, file=source, line=locate(root, path))
                for path, message in check_scenario(scenario)]
    return Checked(problems, None if problems else scenario)


def check_sweep_text(text: str, scenario: Scenario, runs_dir: Path, max_runs: int,
                     source: str = SWEEP_SOURCE) -> CheckedSweep:
    """Check a sweep of the editor's scenario: the sweep file's own checks (its `base` is the
    editor's scenario), axes that select fields of it, a name that can be a folder in the
    runs folder, and no more runs than a background job may make."""
    try:
        root, data = read_yaml(text, source)
    except InputError as error:
        return CheckedSweep(error.problems)
    if expanded_nodes(root) > MAX_NODES:
        return CheckedSweep([Problem("the document expands to too many YAML nodes", file=source, line=1)])
    if not isinstance(data, dict):
        return CheckedSweep([Problem("a sweep is a YAML mapping (name, axes, replications, ...)", file=source,
                                     line=1)])
    base = data.setdefault("base", scenario.name)
    if base != scenario.name:
        return CheckedSweep([Problem(f"the dashboard sweeps the scenario in the editor ({scenario.name!r}): leave "
                                     "`base` out or write its name", path=("base",), file=source,
                                     line=locate(root, ("base",)))])
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as error:
        return CheckedSweep(validation_problems(error, root, source))
    problems = []
    existing = runs_dir / spec.name
    if not safe_name(spec.name) or spec.name in RESERVED or \
            (existing.exists() and not (existing / "sweep.json").is_file()):
        problems.append(Problem(f"{spec.name!r} cannot be the sweep's folder in {runs_dir}: use letters, digits, "
                                "'.', '_' and '-', and no name another output holds", path=("name",), file=source,
                                line=locate(root, ("name",))))
    try:
        check_axes(spec, scenario, root, source)
    except InputError as error:
        problems += error.problems
    if problems:
        return CheckedSweep(problems, spec)
    sweep = Sweep(spec, scenario)
    runs = sweep.total_runs()
    if runs > max_runs:
        return CheckedSweep([Problem(f"{runs:,} runs: a sweep from the dashboard makes at most {max_runs:,} "
                                     "(run bigger ones with `gpufleet sweep`)", file=source, line=1)], spec)
    return CheckedSweep([], spec, runs, runs // max(len(sweep.seeds), 1))


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem for the page: its line, field, message and the CLI's own text of it."""
    return {"line": problem.line, "field": format_path(problem.path), "message": problem.message,
            "text": str(problem)}
