"""The plan file: the planner's problem in YAML (the `gpufleet plan` options, and more).

```yaml
name: frontier-2027
base: openai-aws-2025
until: 2027-09-01
replications: 5
confidence: 0.9
targets: ["wait_days[frontier-2027] <= 30"]
levers:
  - {lever: "expansion:2027-h1", values: {from: 0, to: 500, step: 50}}
  - {lever: "buy:capacity_block:GB200", start: 2027-04-01, days: 28, values: [0, 20, 40]}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, NonNegativeInt, PositiveInt, ValidationError

from gpufleet.errors import InputError, Problem
from gpufleet.plan.levers import LeverSpec
from gpufleet.spec.base import SpecModel, Timestamp
from gpufleet.spec.loader import locate, read_yaml, validation_problems


class SensitivitySpec(SpecModel):
    """The assumptions moved after solving: demand factors (re-solved) and purchase price factors (re-ranked)."""

    demand: list[Annotated[float, Field(gt=0)]] = [0.9, 1.1]
    purchase_price: list[Annotated[float, Field(gt=0)]] = [0.8, 1.2]


class PlanSpec(SpecModel):
    """A planning problem."""

    name: Annotated[str, Field(min_length=1)]
    base: Annotated[str, Field(description="Built-in scenario name or scenario file.")]
    until: Timestamp | None = None
    decided: Annotated[Timestamp | None, Field(description="When the plan is decided (lead times count from "
                                                           "it); default: the scenario start.")] = None
    seed: NonNegativeInt | None = None
    replications: PositiveInt = 5
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.9
    targets: Annotated[list[str], Field(min_length=1)]
    levers: Annotated[list[LeverSpec], Field(min_length=1)]
    runner_ups: NonNegativeInt = 2
    budget: PositiveInt = 60
    sensitivity: SensitivitySpec = SensitivitySpec()


def load_plan(path: str | Path) -> tuple[PlanSpec, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(f"cannot read plan: {exc.strerror}", file=str(path))]) from None
    root, data = read_yaml(text, str(path))
    if not isinstance(data, dict):
        raise InputError([Problem("a plan is a YAML mapping (name, base, targets, levers, ...)", file=str(path),
                                  line=1)])
    try:
        return PlanSpec.model_validate(data), root
    except ValidationError as exc:
        raise InputError(validation_problems(exc, root, str(path))) from None


def plan_problem_at(root: Any, source: str, path: tuple[str | int, ...], message: str) -> Problem:  # noqa: ANN401
    return Problem(message, path=path, file=source, line=locate(root, path))
