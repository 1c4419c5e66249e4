"""What time and tokens are worth: the cost of a day of delay (of a named job, or of each job
in a size range) and the revenue per million tokens served, so money answers include the
cost of waiting (docs/scenarios.md, "value")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from gpufleet.spec.base import SpecModel, Timestamp


class DelayValueSpec(SpecModel):
    """A day of delay's cost: of the named job `job` (delay counted from its `start_by`, else its
    submit time), or of each job of `min_gpus` to `max_gpus` GPUs (delay = its wait)."""

    job: Annotated[str | None, Field(description="An explicit job's name.")] = None
    min_gpus: Annotated[PositiveInt | None, Field(description="Smallest job size the rate applies to.")] = None
    max_gpus: Annotated[PositiveInt | None, Field(description="Largest job size the rate applies to.")] = None
    usd_per_day: Annotated[NonNegativeFloat | None, Field(description="Dollars per day of delay of one job.")] = None
    usd_per_gpu_day: Annotated[
        NonNegativeFloat | None, Field(description="Dollars per day of delay per GPU the job asks for.")
    ] = None
    start_by: Annotated[
        Timestamp | None,
        Field(description="With `job`: the date its delay counts from (instead of the job's own start_by).")
    ] = None
    source: Annotated[str, Field(description="Where the figure comes from, or 'assumption'.")] = ""

    @model_validator(mode="after")
    def _one_target(self) -> DelayValueSpec:
        sized = self.min_gpus is not None or self.max_gpus is not None
        if (self.job is None) == (not sized):
            raise ValueError("give a job name, or a size range (min_gpus and/or max_gpus), not both")
        if (self.usd_per_day is None) == (self.usd_per_gpu_day is None):
            raise ValueError("give exactly one of usd_per_day or usd_per_gpu_day")
        if self.start_by is not None and self.job is None:
            raise ValueError("start_by goes with a named job")
        if self.min_gpus is not None and self.max_gpus is not None and self.max_gpus < self.min_gpus:
            raise ValueError(f"max_gpus {self.max_gpus} is below min_gpus {self.min_gpus}")
        return self

    def per_day(self, gpus: int) -> float:
        """Dollars per day of delay of one job of `gpus` GPUs."""
        return self.usd_per_day if self.usd_per_day is not None else self.usd_per_gpu_day * gpus  # type: ignore[operator]

    def covers(self, gpus: int) -> bool:
        """Whether a job of `gpus` GPUs falls in this size range."""
        return (self.min_gpus is None or gpus >= self.min_gpus) and (self.max_gpus is None or gpus <= self.max_gpus)


class RevenueSpec(SpecModel):
    """What a service earns per million tokens it serves (dropped requests earn nothing)."""

    service: Annotated[str, Field(description="A service's name.")]
    usd_per_million_output_tokens: NonNegativeFloat
    usd_per_million_input_tokens: NonNegativeFloat = 0.0
    source: Annotated[str, Field(description="Where the figures come from, or 'assumption'.")] = ""


class ValueSpec(SpecModel):
    """The value of time and of tokens; money answers then include the cost of waiting."""

    delay: Annotated[
        list[DelayValueSpec],
        Field(description="Cost per day of delay; a named job's entry wins over size ranges, and the first "
              "matching size range counts."),
    ] = []
    revenue: Annotated[list[RevenueSpec], Field(description="Revenue per million tokens, by service.")] = []
