"""Fleet spec: pools of one GPU type whose racks arrive in dated deliveries, with the risk
that a delivery slips and the burn-in before its racks take work."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from gpufleet.spec.base import SpecModel, Timestamp, unless_set
from gpufleet.spec.purchase import PurchaseSpec


class SlipSpec(SpecModel):
    """How many days after its planned date a delivery arrives, drawn once per delivery.

    lognormal: `median_days` and `sigma` (of the log); triangular: `min_days`,
    `mode_days`, `max_days`; fixed: `days`. Slips are never negative (no early deliveries).
    """

    dist: Literal["lognormal", "triangular", "fixed"]
    median_days: PositiveFloat | None = None
    sigma: NonNegativeFloat | None = None
    min_days: NonNegativeFloat | None = None
    mode_days: NonNegativeFloat | None = None
    max_days: NonNegativeFloat | None = None
    days: NonNegativeFloat | None = None
    source: Annotated[str, Field(description="Where the figures come from, or 'assumption'.")] = ""

    @model_validator(mode="after")
    def _fields_match_dist(self) -> SlipSpec:
        needed = {"lognormal": ("median_days", "sigma"), "triangular": ("min_days", "mode_days", "max_days"),
                  "fixed": ("days",)}[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"dist {self.dist} needs {', '.join(missing)}")
        extra = [name for name in ("median_days", "sigma", "min_days", "mode_days", "max_days", "days")
                 if name not in needed and getattr(self, name) is not None]
        if extra:
            raise ValueError(f"dist {self.dist} does not take {', '.join(extra)}")
        if self.dist == "triangular" and not (self.min_days <= self.mode_days <= self.max_days  # type: ignore[operator]
                                              and self.min_days < self.max_days):  # type: ignore[operator]
            raise ValueError("triangular needs min_days <= mode_days <= max_days and min_days < max_days")
        return self


class DeliveryRiskSpec(SpecModel):
    """What happens between a delivery's planned date and its racks taking work.

    A delivery is handed over `slip` days after its planned date (drawn per delivery
    from its own random stream), then spends `burn_in_days` in acceptance testing:
    installed (and billed, unless `burn_in_billed: false`) but not placeable.
    """

    slip: Annotated[SlipSpec | None, Field(description="Delay after the planned date; none: on time.")] = None
    burn_in_days: Annotated[
        NonNegativeFloat, Field(description="Days from handover until the racks take work.")
    ] = 0.0
    burn_in_billed: Annotated[
        bool, Field(description="Racks in burn-in count as installed and billed (the buyer's acceptance tests).")
    ] = True
    source: Annotated[str, Field(description="Where the figures come from, or 'assumption'.")] = ""


class CapacityChange(SpecModel):
    """Racks that arrive (a delivery) or leave (a retirement) on a date.

    Give exactly one of `racks`, `nodes` or `gpus`; nodes and GPUs must make whole racks.
    A delivery may override its pool's `delivery_risk` with its own `slip` and
    `burn_in_days`.
    """

    date: Annotated[Timestamp, Field(description="When the change takes effect (UTC); for a delivery with "
                                     "delivery risk, the planned date.")]
    racks: Annotated[PositiveInt | None, Field(description="Racks (NVLink domains).")] = None
    nodes: Annotated[PositiveInt | None, Field(description="Nodes; a multiple of nodes_per_rack.")] = None
    gpus: Annotated[PositiveInt | None, Field(description="GPUs; a multiple of the rack size.")] = None
    source: Annotated[str, Field(description="Where the figure comes from, or 'assumption'.")] = ""
    slip: Annotated[
        SlipSpec | None,
        Field(exclude_if=unless_set(None), description="Deliveries: this delivery's slip (overrides the pool's "
              "delivery_risk.slip)."),
    ] = None
    burn_in_days: Annotated[
        NonNegativeFloat | None,
        Field(exclude_if=unless_set(None), description="Deliveries: this delivery's burn-in (overrides the pool's)."),
    ] = None

    @model_validator(mode="after")
    def _exactly_one_amount(self) -> CapacityChange:
        given = [name for name in ("racks", "nodes", "gpus") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of racks, nodes or gpus (got {given or 'none'})")
        return self


class PoolSpec(SpecModel):
    """A homogeneous set of racks of one GPU type, in one provider region.

    Topology, outermost first: provider > region > block > rack (one NVLink domain) > node.
    Racks fill blocks in delivery order, `racks_per_block` to a block.
    """

    name: Annotated[str, Field(min_length=1, description="Pool name, unique in the fleet.")]
    gpu: Annotated[str, Field(description="GPU type from the catalog or `gpu_types` (the flavor).")]
    provider: Annotated[str, Field(description="Topology label: provider.")] = "default"
    region: Annotated[str, Field(description="Topology label: region.")] = "default"
    gpus_per_node: Annotated[
        PositiveInt | None, Field(description="GPUs per node; default from the catalog.")
    ] = None
    nodes_per_rack: Annotated[
        PositiveInt | None,
        Field(
            description="Nodes per rack, i.e. per NVLink domain; default from the catalog "
            "(18 for GB200/GB300 NVL72, 1 for 8-GPU HGX nodes)."
        ),
    ] = None
    racks_per_block: Annotated[
        PositiveInt, Field(description="Racks per block (network spine / UltraCluster block).")
    ] = 64
    deliveries: Annotated[
        list[CapacityChange],
        Field(description="Capacity arrivals, in date order. Empty only for a pool that contract expansions fill "
              "(e.g. a next-generation option)."),
    ]
    retirements: Annotated[
        list[CapacityChange],
        Field(description="Capacity removals, in date order; the oldest racks drain first."),
    ] = []
    purchase: Annotated[
        PurchaseSpec | None,
        Field(exclude_if=unless_set(None),
              description="Capacity bought outside the commitment (on-demand, capacity block, spot) at its own "
                          "price; none: the pool is part of the contract."),
    ] = None
    delivery_risk: Annotated[
        DeliveryRiskSpec | None,
        Field(exclude_if=unless_set(None),
              description="Slip and burn-in of every delivery of the pool (contract expansions included); "
              "none: racks take work on their dates."),
    ] = None


class GpuTypeSpec(SpecModel):
    """A GPU type the catalog lacks (or an override of one), with its sources."""

    gpus_per_node: PositiveInt
    nvlink_domain_gpus: PositiveInt
    hbm_gb: PositiveFloat | None = None
    bf16_dense_tflops: PositiveFloat | None = None
    fp8_dense_tflops: PositiveFloat | None = None
    tdp_w: PositiveFloat | None = None
    list_price_usd_per_gpu_hour: PositiveFloat | None = None
    source: Annotated[str, Field(description="Where these numbers come from.")] = ""


class FleetSpec(SpecModel):
    """The hardware: one or more pools."""

    pools: Annotated[list[PoolSpec], Field(min_length=1)]
