"""Read a scenario from YAML with errors that name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gpufleet.errors import InputError, Problem
from gpufleet.spec.scenario import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load, validate and check a scenario file.

    Raises:
        InputError: listing every problem with its file, line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(f"cannot read scenario: {exc.strerror}", file=str(path))]) from None
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; `source` names it in error messages."""
    root, data = read_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError([Problem("a scenario is a YAML mapping (name, start, end, fleet, ...)", file=source, line=1)])
    try:
        scenario = Scenario.model_validate(data, context={"source": source})
    except ValidationError as exc:
        raise InputError(validation_problems(exc, root, source)) from None

    from gpufleet.spec.checks import check_scenario  # late: checks import the fleet layout

    problems = [
        Problem(message, path=path, file=source, line=locate(root, path))
        for path, message in check_scenario(scenario)
    ]
    if problems:
        raise InputError(problems)
    return scenario


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for line numbers) and the data; bad YAML is an InputError naming the line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(f"not valid YAML: {reason}", file=source, line=line)]) from None


def validation_problems(exc: ValidationError, root: yaml.Node | None, source: str) -> list[Problem]:
    """One Problem per pydantic error of any model read from YAML: file, line and field."""
    return [Problem(_describe(error), path=_clean_path(error["loc"]), file=source, line=locate(root, error["loc"]))
            for error in exc.errors()]


def _describe(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; `gpufleet schema` lists the keys)"
    if error["type"] == "missing":
        return "required key is missing"
    value = error.get("input")
    if error["type"] not in ("model_type", "dict_type") and isinstance(value, str | int | float):
        message += f" (got {value!r})"
    return message


def _clean_path(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's internal union tags ('function-after[...]', 'literal[...]')."""
    return tuple(part for part in loc if not (isinstance(part, str) and ("[" in part or part.startswith("function-"))))


def locate(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """Follow a field path through the YAML node tree; return the 1-based line of the deepest match."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == part), None)
            if match is None:
                # A missing key: point at the mapping that should hold it.
                if isinstance(part, str) and "[" not in part:
                    break
                continue
            key_node = next(key for key, value in node.value if value is match)
            line = key_node.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            continue
    return line
