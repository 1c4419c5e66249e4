"""Capacity bought outside the commitment: a pool with its own price and no commitment.

A pool with `purchase` is billed at its own price per GPU-hour for the hours its racks
are installed (deliveries to retirements), outside the contract's term and commitment:
the ledger books it as *purchased* dollars, apart from the *billed* dollars the
commitment pays for. The kinds follow AWS's purchase options:

- `on_demand`: rented by the hour, no commitment (EC2 On-Demand);
- `capacity_block`: reserved for a fixed window and paid up front (EC2 Capacity Blocks
  for ML; the window is the pool's delivery and retirement dates);
- `spot`: spare capacity at a discount that the provider reclaims: each rack is taken
  away at `interruptions_per_rack_day` for `reclaim_hours` (a rack failure: the jobs on
  it stop and restart from their checkpoints, as after any failure).

Prices and lead times carry a source: calibration.md section 3 has on-demand, Capacity
Block and spot prices; lead times are not there and are assumptions (docs/planning.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from gpufleet.spec.base import SpecModel


class PurchaseKind(StrEnum):
    on_demand = "on_demand"
    capacity_block = "capacity_block"
    spot = "spot"


class PurchaseSpec(SpecModel):
    """How a pool outside the commitment is bought and priced."""

    kind: PurchaseKind
    price_usd_per_gpu_hour: Annotated[PositiveFloat, Field(description="What an installed GPU-hour costs.")]
    lead_days: Annotated[
        NonNegativeFloat, Field(description="How long before its first delivery it must be bought (the planner "
                                            "keeps decisions this far ahead).")
    ] = 0.0
    interruptions_per_rack_day: Annotated[
        NonNegativeFloat, Field(description="Spot only: how often the provider reclaims a rack.")
    ] = 0.0
    reclaim_hours: Annotated[
        PositiveFloat, Field(description="Spot only: how long a reclaimed rack stays away.")
    ] = 2.0
    source: Annotated[str, Field(description="Where the price and rates come from, or 'assumption'.")] = ""

    @model_validator(mode="after")
    def _spot_only(self) -> PurchaseSpec:
        if self.kind is not PurchaseKind.spot and self.interruptions_per_rack_day:
            raise ValueError("interruptions_per_rack_day applies to spot capacity only")
        return self
