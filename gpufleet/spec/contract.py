"""Contract spec: a commitment in dollars over a term, prices per GPU type, expansions.

A scenario holds one (`contract:`, every pool not bought outside it) or several
(`contracts:`, a portfolio: each names its provider and pools). The kind says what the
commitment is counted against:

- `take_or_pay`: installed capacity, billed whether used or not (the default);
- `minimum_spend`: consumption: used GPU-hours at the contract price count against
  the value; what is left at the term's end is owed (the shortfall), and GPU-hours
  beyond it are billed at the overage price.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from gpufleet.spec.base import SpecModel, Timestamp, unless_set


class ContractKind(StrEnum):
    take_or_pay = "take_or_pay"
    minimum_spend = "minimum_spend"


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
    provider: Annotated[
        str | None,
        Field(exclude_if=unless_set(None),
              description="The cloud provider; in `contracts:`, its pools are this provider's pools (those not "
                          "bought outside the commitment) unless `pools` lists them."),
    ] = None
    pools: Annotated[
        list[str] | None,
        Field(exclude_if=unless_set(None),
              description="The pools the contract pays for; none: the provider's pools (`contracts:`), or every "
                          "pool not bought outside it (`contract:`)."),
    ] = None
    kind: Annotated[
        ContractKind,
        Field(exclude_if=unless_set(ContractKind.take_or_pay),
              description="take_or_pay: installed capacity is billed whether used or not; minimum_spend: used "
                          "GPU-hours count against the value, a shortfall at the term's end is owed, and use "
                          "beyond it is billed at the overage price."),
    ] = ContractKind.take_or_pay
    overage_usd_per_gpu_hour: Annotated[
        dict[str, PositiveFloat],
        Field(exclude_if=unless_set({}),
              description="minimum_spend: price per GPU-hour by GPU type once the commitment is consumed; types "
                          "not listed keep the contract price."),
    ] = {}

    consumed_before_usd: Annotated[
        NonNegativeFloat,
        Field(exclude_if=unless_set(0.0),
              description="What counted against the commitment before the scenario starts (a contract signed "
                          "earlier): the ledger starts at the scenario start with this much already consumed."),
    ] = 0.0

    @model_validator(mode="after")
    def _overage_for_minimum_spend(self) -> ContractSpec:
        if self.overage_usd_per_gpu_hour and self.kind is not ContractKind.minimum_spend:
            raise ValueError("overage_usd_per_gpu_hour applies to minimum_spend contracts only")
        if self.consumed_before_usd > self.value_usd:
            raise ValueError(f"consumed_before_usd {self.consumed_before_usd:g} exceeds value_usd {self.value_usd:g}")
        return self
