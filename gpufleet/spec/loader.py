"""Read a scenario from YAML with errors that name the file, the line and the field.

This layer validates what the schema can say (types, ranges, one field against another
of the same model). The checks across the scenario that need the fleet layout, the job
generators or the scheduler's registries come on top, in `gpufleet.sim.load`, which is
what loads a scenario for a run (`load_scenario`, `parse_scenario`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gpufleet.errors import InputError, Problem
from gpufleet.spec.scenario import Scenario


def read_scenario_text(path: str | Path) -> str:
    """The text of a scenario file, or InputError naming the file (unreadable, not UTF-8)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(f"cannot read scenario: {exc.strerror}", file=str(path))]) from None
    return decode_text(data, str(path))


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text of a file, or InputError naming the line of the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError([Problem(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
                                  "(a scenario is a YAML text file)", file=source, line=line)]) from None


def parse_spec(text: str, source: str = "<scenario>") -> tuple[Scenario, yaml.Node | None]:
    """Scenario YAML text validated against the schema (not yet checked across layers), and
    its YAML node tree (for the lines of later problems); `source` names it in errors."""
    root, data = read_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError([Problem("a scenario is a YAML mapping (name, start, end, fleet, ...)", file=source, line=1)])
    try:
        return Scenario.model_validate(data, context={"source": source}), root
    except ValidationError as exc:
        raise InputError(validation_problems(exc, root, source)) from None


class _ImpossibleDate(yaml.constructor.ConstructorError):
    def __init__(self, node: yaml.Node, reason: str) -> None:
        super().__init__(None, None, f"{node.value} is not a real date-time ({reason})", node.start_mark)
        self.node = node


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, with impossible date-times (hour 25, 30 February) reported at
    their line and field instead of raised as a bare ValueError."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise _ImpossibleDate(node, str(exc)) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for line numbers) and the data; bad YAML (and an impossible
    date-time) is an InputError naming the line."""
    root = None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        return root, yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except _ImpossibleDate as exc:
        raise InputError([Problem(str(exc.problem), path=path_to(root, exc.node), file=source,
                                  line=exc.node.start_mark.line + 1)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(f"not valid YAML: {reason}", file=source, line=line)]) from None
    except RecursionError:
        raise InputError([Problem("not valid YAML: nested too deeply", file=source)]) from None


def validation_problems(exc: ValidationError, root: yaml.Node | None, source: str) -> list[Problem]:
    """One Problem per pydantic error of any model read from YAML: file, line and field."""
    return [Problem(_describe(error), path=_clean_path(error["loc"]), file=source, line=locate(root, error["loc"]))
            for error in exc.errors()]


def _describe(error: Mapping[str, Any]) -> str:
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


def path_to(root: yaml.Node | None, target: yaml.Node) -> tuple[str | int, ...]:
    """The field path from `root` to the node `target` (empty when it is not found)."""
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        if node.start_mark.index == target.start_mark.index and node.tag == target.tag:
            return path
        if isinstance(node, yaml.MappingNode):
            stack += [(value, (*path, str(key.value))) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, (*path, i)) for i, item in enumerate(node.value)]
    return ()


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
