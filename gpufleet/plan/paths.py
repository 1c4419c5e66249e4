"""Scenario fields by path: read, set, scale or shift any value of a scenario.

A path is dotted keys with list selectors, as `gpufleet` names fields in its errors:

    contract.expansions[0].racks            the first option's racks
    fleet.pools[gb300].deliveries[*].racks  every delivery of the pool named gb300
    contract.expansions[2027-h1].exercise   the option named 2027-h1

`[i]` is an index, `[*]` every item, `[name]` the item whose `name` is `name`. Changes
are made on the scenario's JSON form and validated again, checks included, so a value
that breaks the scenario is an error naming the path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from gpufleet.errors import InputError, Problem, format_path
from gpufleet.sim.checks import check_scenario
from gpufleet.spec.scenario import Scenario

_PART = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
ALL = "*"


def parse_path(path: str) -> list[str | int | tuple[str]]:
    """Split a path: keys are str, indexes int, `*` is ALL, a name selector a 1-tuple."""
    parts: list[str | int | tuple[str]] = []
    position = 0
    for match in _PART.finditer(path):
        if match.start() != position and path[position:match.start()] != ".":
            raise ValueError(f"cannot read path {path!r} at {path[position:]!r}")
        key, selector = match.groups()
        if key is not None:
            parts.append(key)
        elif selector == ALL:
            parts.append(ALL)
        elif re.fullmatch(r"-?\d+", selector):
            parts.append(int(selector))
        else:
            parts.append((selector,))
        position = match.end()
    if not parts or position != len(path):
        raise ValueError(f"cannot read path {path!r}")
    return parts


def _locations(data: Any, parts: list[str | int | tuple[str]], path: str) -> list[tuple[Any, str | int]]:  # noqa: ANN401
    """(container, key) of every value the path selects."""
    found: list[tuple[Any, str | int]] = [(None, "")]
    current = [data]
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        found_next: list[tuple[Any, str | int]] = []
        following = []
        for node in current:
            if isinstance(part, str) and part != ALL:
                if not isinstance(node, dict) or part not in node:
                    raise ValueError(f"{path}: no field {part!r} here")
                found_next.append((node, part))
            elif isinstance(node, list):
                if part == ALL:
                    indexes = list(range(len(node)))
                elif isinstance(part, int):
                    if not -len(node) <= part < len(node):
                        raise ValueError(f"{path}: index {part} is past the {len(node)} items")
                    indexes = [part]
                else:
                    indexes = [i for i, item in enumerate(node)
                               if isinstance(item, dict) and item.get("name") == part[0]]
                    if not indexes:
                        raise ValueError(f"{path}: no item named {part[0]!r}")
                found_next += [(node, i) for i in indexes]
            else:
                raise ValueError(f"{path}: {part!r} selects from a list, and this is not one")
        if not last:
            following = [container[key] for container, key in found_next]
            if any(item is None for item in following):
                raise ValueError(f"{path}: a field on the way is not set")
        found, current = found_next, following
    return found


def get_values(data: dict[str, Any], path: str) -> list[Any]:
    """Every value the path selects in a scenario's JSON form."""
    return [container[key] for container, key in _locations(data, parse_path(path), path)]


def _apply(data: dict[str, Any], path: str, change: Callable[[Any], Any]) -> None:
    for container, key in _locations(data, parse_path(path), path):
        container[key] = change(container[key])


def set_value(data: dict[str, Any], path: str, value: Any) -> None:  # noqa: ANN401
    _apply(data, path, lambda _old: copy.deepcopy(value))


def scale_value(data: dict[str, Any], path: str, factor: float) -> None:
    """Multiply every number the path selects; whole numbers stay whole (half up)."""

    def scale(old: Any) -> Any:  # noqa: ANN401
        if isinstance(old, bool) or not isinstance(old, int | float):
            raise ValueError(f"{path}: cannot scale {old!r}, only numbers")
        if isinstance(old, int):
            return int(old * factor + 0.5)
        return old * factor

    _apply(data, path, scale)


def shift_value(data: dict[str, Any], path: str, days: float) -> None:
    """Move every date the path selects by `days` (negative: earlier)."""

    def shift(old: Any) -> Any:  # noqa: ANN401
        try:
            when = datetime.fromisoformat(old)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: cannot shift {old!r}, only dates") from None
        return (when + timedelta(days=days)).isoformat()

    _apply(data, path, shift)


def rebuild(data: dict[str, Any], what: str) -> Scenario:
    """Validate and check a changed scenario; `what` names the change in errors."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(f"{what}: {format_path(tuple(err['loc']))}: {err['msg']}")
                          for err in exc.errors()]) from None
    problems = [Problem(f"{what}: {format_path(path)}: {message}") for path, message in check_scenario(scenario)]
    if problems:
        raise InputError(problems)
    return scenario


def as_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario's JSON form, to change by path and `rebuild`."""
    return scenario.model_dump(mode="json")
