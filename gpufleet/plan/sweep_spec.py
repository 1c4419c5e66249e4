"""The sweep file: a base scenario, axes over its fields, replications, a design.

```yaml
name: gb300-ramp
base: openai-aws-2025          # a built-in name or a scenario file (relative to this file)
until: 2026-12-01              # optional: stop every run early
replications: 5                # seeds seed, seed+1, ... (default seed: the base's)
design: grid                   # grid | random | search
axes:
  - path: fleet.pools[gb300].deliveries[*].racks
    scale: {from: 0.8, to: 1.2, steps: 5}
  - path: scheduler.policy
    values: [fifo, las]
```

Errors name the file, the line and the field, as the scenario loader's do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, ValidationError, model_validator

from gpufleet.errors import InputError, Problem
from gpufleet.spec.base import SpecModel, Timestamp
from gpufleet.spec.loader import locate, read_yaml, validation_problems


class RangeSpec(SpecModel):
    """Numbers from `from` to `to` inclusive, by `step` or in `steps` evenly spaced values."""

    start: Annotated[float, Field(alias="from")]
    to: float
    step: Annotated[float | None, Field(gt=0)] = None
    steps: Annotated[int | None, Field(ge=2)] = None

    @model_validator(mode="after")
    def _one_spacing(self) -> RangeSpec:
        if (self.step is None) == (self.steps is None):
            raise ValueError("give exactly one of step or steps")
        if self.to < self.start:
            raise ValueError("`to` is below `from`")
        return self

    def values(self) -> list[float]:
        if self.steps is not None:
            width = self.to - self.start
            return [self.start + width * i / (self.steps - 1) for i in range(self.steps)]
        count = int((self.to - self.start) / self.step + 1e-9) + 1  # type: ignore[operator]
        return [self.start + self.step * i for i in range(count)]  # type: ignore[operator]

    @property
    def whole(self) -> bool:
        """Whether every value is a whole number (then they are given as ints)."""
        return all(float(v).is_integer() for v in (self.start, self.to, self.step or 1.0)) and self.steps is None


class AxisSpec(SpecModel):
    """One axis: a scenario field by path and the values it takes.

    `values`: the values themselves; `range`: numbers; `scale`: factors applied to every
    number the path selects (a whole list, such as every delivery of a pool);
    `shift_days`: days added to every date the path selects.
    """

    path: Annotated[str, Field(description="Scenario field, e.g. fleet.pools[gb300].deliveries[*].racks.")]
    name: Annotated[str | None, Field(description="Column name in the sweep's table (default: the path).")] = None
    values: list[Any] | None = None
    range: RangeSpec | None = None
    scale: list[float] | RangeSpec | None = None
    shift_days: list[float] | RangeSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> AxisSpec:
        given = [kind for kind in ("values", "range", "scale", "shift_days") if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of values, range, scale or shift_days (got {given or 'none'})")
        if self.values is not None and not self.values:
            raise ValueError("values is empty")
        return self

    @property
    def label(self) -> str:
        return self.name or self.path

    @property
    def kind(self) -> str:
        return next(kind for kind in ("values", "range", "scale", "shift_days") if getattr(self, kind) is not None)

    def grid(self) -> list[Any]:
        """Every value of the axis, in order."""
        spec = getattr(self, self.kind)
        if isinstance(spec, RangeSpec):
            values = spec.values()
            return [int(round(v)) for v in values] if spec.whole else values
        return list(spec)

    def bounds(self) -> tuple[float, float] | None:
        """(low, high) of a numeric axis given as a range (continuous sampling), else None."""
        spec = getattr(self, self.kind)
        return (spec.start, spec.to) if isinstance(spec, RangeSpec) and spec.steps is not None else None


class SearchSpec(SpecModel):
    """An Optuna search (TPE with a fixed seed): what to optimise, under which constraints."""

    minimize: str | None = None
    maximize: str | None = None
    constraints: Annotated[list[str], Field(description="Targets, e.g. 'wait_p95_h[1K-8K] <= 12'.")] = []
    trials: PositiveInt = 20

    @model_validator(mode="after")
    def _one_objective(self) -> SearchSpec:
        if (self.minimize is None) == (self.maximize is None):
            raise ValueError("give exactly one of minimize or maximize")
        return self


class SweepSpec(SpecModel):
    """A sweep: the base scenario, its axes, the design and the replications."""

    name: Annotated[str, Field(min_length=1)]
    base: Annotated[str, Field(description="Built-in scenario name or scenario file.")]
    until: Timestamp | None = None
    seed: Annotated[NonNegativeInt | None, Field(description="First seed (default: the base scenario's).")] = None
    replications: PositiveInt = 1
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.95
    design: Literal["grid", "random", "search"] = "grid"
    samples: Annotated[PositiveInt | None, Field(description="Points of a random design.")] = None
    design_seed: Annotated[NonNegativeInt, Field(description="Seed of the random design or the search.")] = 0
    axes: Annotated[list[AxisSpec], Field(min_length=1)]
    search: SearchSpec | None = None

    @model_validator(mode="after")
    def _design_fields(self) -> SweepSpec:
        if self.design == "random" and self.samples is None:
            raise ValueError("a random design needs `samples`")
        if self.design == "search" and self.search is None:
            raise ValueError("a search design needs a `search` section")
        labels = [axis.label for axis in self.axes]
        if len(set(labels)) != len(labels):
            raise ValueError("two axes have the same name; give one a `name`")
        return self


def load_sweep(path: str | Path) -> tuple[SweepSpec, Any]:
    """The sweep file, validated, and its YAML node tree (to point at lines later)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(f"cannot read sweep: {exc.strerror}", file=str(path))]) from None
    return parse_sweep(text, str(path))


def parse_sweep(text: str, source: str = "<sweep>") -> tuple[SweepSpec, Any]:
    root, data = read_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError([Problem("a sweep is a YAML mapping (name, base, axes, ...)", file=source, line=1)])
    try:
        return SweepSpec.model_validate(data), root
    except ValidationError as exc:
        raise InputError(validation_problems(exc, root, source)) from None


def problem_at(root: Any, source: str, path: tuple[str | int, ...], message: str) -> Problem:  # noqa: ANN401
    """A problem with the sweep file's line for a field path."""
    return Problem(message, path=path, file=source, line=locate(root, path))
