"""Turn the fleet spec (and the contract's exercised expansions) into a FleetLayout."""

from __future__ import annotations

from gpufleet.catalog import CATALOG, GpuType, lookup
from gpufleet.fleet.layout import FleetLayout, PoolLayout
from gpufleet.spec.fleet import CapacityChange, PoolSpec
from gpufleet.spec.scenario import Scenario


def gpu_types(scenario: Scenario) -> dict[str, GpuType]:
    """The catalog plus the scenario's own `gpu_types` (which win on a name clash)."""
    extra = {
        name: GpuType(
            name=name,
            gpus_per_node=spec.gpus_per_node,
            nvlink_domain_gpus=spec.nvlink_domain_gpus,
            hbm_gb=spec.hbm_gb,
            bf16_dense_tflops=spec.bf16_dense_tflops,
            fp8_dense_tflops=spec.fp8_dense_tflops,
            tdp_w=spec.tdp_w,
            list_price_usd_per_gpu_hour=spec.list_price_usd_per_gpu_hour,
            sources=(spec.source,) if spec.source else (),
        )
        for name, spec in scenario.gpu_types.items()
    }
    return {**CATALOG, **extra}


def pool_shape(pool: PoolSpec, gpu: GpuType) -> tuple[int, int]:
    """(gpus_per_node, nodes_per_rack) for a pool: the spec's, else the catalog's."""
    gpus_per_node = pool.gpus_per_node or gpu.gpus_per_node
    nodes_per_rack = pool.nodes_per_rack or max(1, gpu.nvlink_domain_gpus // gpus_per_node)
    return gpus_per_node, nodes_per_rack


def racks_in(change: CapacityChange, gpus_per_node: int, nodes_per_rack: int) -> int:
    """Whole racks in a delivery or retirement.

    Raises:
        ValueError: when nodes or GPUs do not make whole racks.
    """
    if change.racks is not None:
        return change.racks
    if change.nodes is not None:
        if change.nodes % nodes_per_rack:
            raise ValueError(f"{change.nodes} nodes is not a whole number of racks of {nodes_per_rack} nodes")
        return change.nodes // nodes_per_rack
    rack_gpus = gpus_per_node * nodes_per_rack
    assert change.gpus is not None
    if change.gpus % rack_gpus:
        raise ValueError(f"{change.gpus} GPUs is not a whole number of racks of {rack_gpus} GPUs")
    return change.gpus // rack_gpus


def build_layout(scenario: Scenario) -> FleetLayout:
    """Lay out every rack the scenario will ever have (run `check_scenario` first)."""
    types = gpu_types(scenario)
    expansions: dict[str, list[tuple[float, int]]] = {}
    if scenario.contract is not None:
        for option in scenario.contract.expansions:
            if option.exercise:
                expansions.setdefault(option.pool, []).append((scenario.seconds(option.date), option.racks))

    spare_nodes = scenario.failures.spares.nodes_per_rack if scenario.failures is not None else 0
    pools: list[PoolLayout] = []
    all_deliveries: list[list[tuple[float, int]]] = []
    all_retirements: list[list[tuple[float, int]]] = []
    rack_lo = block_lo = 0
    for index, spec in enumerate(scenario.fleet.pools):
        gpu = lookup(spec.gpu, types)
        gpus_per_node, nodes_per_rack = pool_shape(spec, gpu)
        deliveries = [
            (scenario.seconds(change.date), racks_in(change, gpus_per_node, nodes_per_rack))
            for change in spec.deliveries
        ] + expansions.get(spec.name, [])
        deliveries.sort(key=lambda item: item[0])  # stable: spec order within a date
        retirements = [
            (scenario.seconds(change.date), racks_in(change, gpus_per_node, nodes_per_rack))
            for change in spec.retirements
        ]
        racks = sum(count for _, count in deliveries)
        blocks = -(-racks // spec.racks_per_block)
        pools.append(
            PoolLayout(
                index=index,
                name=spec.name,
                gpu=gpu,
                provider=spec.provider,
                region=spec.region,
                gpus_per_node=gpus_per_node,
                nodes_per_rack=nodes_per_rack,
                racks_per_block=spec.racks_per_block,
                rack_lo=rack_lo,
                rack_hi=rack_lo + racks,
                block_lo=block_lo,
                block_hi=block_lo + blocks,
                spare_nodes=min(spare_nodes, nodes_per_rack - 1) if nodes_per_rack > 1 else 0,
            )
        )
        all_deliveries.append(deliveries)
        all_retirements.append(retirements)
        rack_lo += racks
        block_lo += blocks
    return FleetLayout(pools, all_deliveries, all_retirements)
