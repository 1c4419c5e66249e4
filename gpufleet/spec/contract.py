"""Contract spec: a commitment in dollars over a term, prices per GPU type, expansions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from gpufleet.spec.base import SpecModel, Timestamp


class ExpansionSpec(SpecModel):
    """An option to add racks to a pool on a date (exercised unless `exercise: false`)."""

    name: str
    date: Timestamp
    pool: Annotated[str, Field(description="Pool that receives the racks.")]
    racks: PositiveInt
    exercise: Annotated[bool, Field(description="Whether the option is taken up.")] = True
    value_usd: Annotated[
        NonNegativeFloat, Field(description="Extra commitment the option adds, if any.")
    ] = 0.0
    source: str = ""


class ContractSpec(SpecModel):
    """A capacity commitment: `value_usd` to be consumed over `term_years` from `start`."""

    name: str = "contract"
    value_usd: PositiveFloat
    start: Timestamp
    term_years: PositiveFloat
    prices_usd_per_gpu_hour: Annotated[
        dict[str, PositiveFloat],
        Field(description="Price per GPU-hour by GPU type; others use the catalog list price."),
    ] = {}
    expansions: list[ExpansionSpec] = []
    source: str = ""
