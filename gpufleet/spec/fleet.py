"""Fleet spec: pools of one GPU type whose racks arrive in dated deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PositiveFloat, PositiveInt, SerializerFunctionWrapHandler, model_serializer, model_validator

from gpufleet.spec.base import SpecModel, Timestamp
from gpufleet.spec.purchase import PurchaseSpec


class CapacityChange(SpecModel):
    """Racks that arrive (a delivery) or leave (a retirement) on a date.

    Give exactly one of `racks`, `nodes` or `gpus`; nodes and GPUs must make whole racks.
    """

    date: Annotated[Timestamp, Field(description="When the change takes effect (UTC).")]
    racks: Annotated[PositiveInt | None, Field(description="Racks (NVLink domains).")] = None
    nodes: Annotated[PositiveInt | None, Field(description="Nodes; a multiple of nodes_per_rack.")] = None
    gpus: Annotated[PositiveInt | None, Field(description="GPUs; a multiple of the rack size.")] = None
    source: Annotated[str, Field(description="Where the figure comes from, or 'assumption'.")] = ""

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
        list[CapacityChange], Field(min_length=1, description="Capacity arrivals, in date order.")
    ]
    retirements: Annotated[
        list[CapacityChange],
        Field(description="Capacity removals, in date order; the oldest racks drain first."),
    ] = []
    purchase: Annotated[
        PurchaseSpec | None,
        Field(description="Capacity bought outside the commitment (on-demand, capacity block, spot) at its own "
                          "price; none: the pool is part of the contract."),
    ] = None

    @model_serializer(mode="wrap")
    def _omit_no_purchase(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A pool of the contract writes no `purchase` key: scenario.json stays as it was before the field.
        data = handler(self)
        if self.purchase is None:
            data.pop("purchase", None)
        return data


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
